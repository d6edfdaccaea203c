#include "torchlean/nn/models.hpp"

#include <charconv>

#include "torchlean/core/error.hpp"

namespace torchlean::nn {

int64_t Reshape::forward(Context& ctx, int64_t x) const {
  const Shape& s = ctx.shape(x);
  std::vector<int64_t> d = {s[0]};
  d.insert(d.end(), shape_.dims().begin(), shape_.dims().end());
  const Shape to(d);
  TL_USER_CHECK(to.numel() == s.numel(),
                describe() + ": cannot reshape " + s.str() + " to " + to.str());
  if (to == s) return x;
  return ctx.op(ir::OpKind::reshape, {x}, ir::ReshapeAttrs{s, to});
}

ModulePtr lenet(int64_t classes) {
  auto relu = [] { return std::make_shared<Activation>(ir::OpKind::relu); };
  return std::make_shared<Sequential>(std::vector<ModulePtr>{
      std::make_shared<Reshape>(Shape{1, 28, 28}), std::make_shared<Conv2d>(1, 6, 5, 1, 2), relu(),
      std::make_shared<Pool2d>(true, 2), std::make_shared<Conv2d>(6, 16, 5), relu(),
      std::make_shared<Pool2d>(true, 2), std::make_shared<Flatten>(),
      std::make_shared<Linear>(400, 120), relu(), std::make_shared<Linear>(120, 84), relu(),
      std::make_shared<Linear>(84, classes)});
}

ModulePtr build_model(const std::string& spec, const Shape& example_shape) {
  if (spec == "lenet") {
    TL_USER_CHECK(example_shape.numel() == 784,
                  "model lenet: needs 28x28 examples, data has shape " + example_shape.str());
    return lenet(10);
  }
  if (spec.rfind("mlp:", 0) == 0) {
    std::vector<int64_t> widths;
    const std::string body = spec.substr(4);
    size_t pos = 0;
    while (pos <= body.size()) {
      size_t dash = body.find('-', pos);
      if (dash == std::string::npos) dash = body.size();
      int64_t w = 0;
      auto [ptr, ec] = std::from_chars(body.data() + pos, body.data() + dash, w);
      TL_USER_CHECK(
          ec == std::errc() && ptr == body.data() + dash && w > 0,
          "model '" + spec + "': '" + body.substr(pos, dash - pos) + "' is not a positive width");
      widths.push_back(w);
      pos = dash + 1;
    }
    TL_USER_CHECK(widths.size() >= 2, "model '" + spec + "': needs at least two widths");
    TL_USER_CHECK(widths[0] == example_shape.numel(),
                  "model '" + spec + "': first width " + std::to_string(widths[0]) +
                      " but examples of shape " + example_shape.str() + " have " +
                      std::to_string(example_shape.numel()) + " features");
    std::vector<ModulePtr> layers = {std::make_shared<Flatten>()};
    for (size_t i = 0; i + 1 < widths.size(); ++i) {
      if (i > 0) layers.push_back(std::make_shared<Activation>(ir::OpKind::relu));
      layers.push_back(std::make_shared<Linear>(widths[i], widths[i + 1]));
    }
    return std::make_shared<Sequential>(std::move(layers));
  }
  throw UserError("model: unknown spec '" + spec + "' (mlp:W0-W1-...-Wn or lenet)");
}

}  // namespace torchlean::nn
