// Reading ONNX protobuf with limits: ModelProto parsing with a bounded depth,
// TensorProto decoding with validated dims and storage sizes, and typed attribute access.
#include <google/protobuf/io/coded_stream.h>

#include <bit>
#include <cmath>
#include <cstring>

#include "torchlean/core/error.hpp"
#include "torchlean/io/bytes.hpp"
#include "torchlean/io/onnx.hpp"
#include "torchlean/io/onnx_import_detail.hpp"

namespace torchlean::io {

namespace onnx_detail {

namespace {

struct DType {
  int32_t code;
  const char* name;
};
constexpr DType kDTypes[] = {
    {1, "FLOAT"},   {2, "UINT8"},      {3, "INT8"},        {4, "UINT16"},
    {5, "INT16"},   {6, "INT32"},      {7, "INT64"},       {8, "STRING"},
    {9, "BOOL"},    {10, "FLOAT16"},   {11, "DOUBLE"},     {12, "UINT32"},
    {13, "UINT64"}, {14, "COMPLEX64"}, {15, "COMPLEX128"}, {16, "BFLOAT16"}};

double half_to_double(uint16_t h) {
  const int exp = (h >> 10) & 0x1f;
  const int frac = h & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(frac, -24);
  else if (exp == 31)
    v = frac ? std::nan("") : INFINITY;
  else
    v = std::ldexp(frac + 1024, exp - 25);
  return (h & 0x8000) ? -v : v;
}

// Elements of `dims`, or an error when a dim is negative or the count passes the limit.
Shape checked_shape(const google::protobuf::RepeatedField<int64_t>& dims, const std::string& what) {
  std::vector<int64_t> d(dims.begin(), dims.end());
  int64_t count = 1;
  for (int64_t x : d) {
    if (x < 0) throw UserError(what + ": negative dim in " + dims_str(d));
    if (__builtin_mul_overflow(count, x, &count) || count > kOnnxMaxElements)
      throw UserError(what + ": shape " + dims_str(d) + " exceeds the limit of " +
                      std::to_string(kOnnxMaxElements) + " elements");
  }
  return Shape(std::move(d));
}

void require_count(size_t have, int64_t want, const std::string& what, const char* field) {
  if (have != static_cast<size_t>(want))
    throw UserError(what + ": " + field + " holds " + std::to_string(have) +
                    " values, shape needs " + std::to_string(want));
}

}  // namespace

std::string dtype_name(int32_t data_type) {
  for (const DType& d : kDTypes)
    if (d.code == data_type) return d.name;
  return "data type " + std::to_string(data_type);
}

std::vector<double> StaticTensor::as_reals(const std::string& what) const {
  if (elem == Elem::real) return real;
  std::vector<double> out;
  out.reserve(ints.size());
  for (int64_t v : ints) {
    if (v > (int64_t{1} << 53) || v < -(int64_t{1} << 53))
      throw UserError(what + ": integer " + std::to_string(v) + " is not exact as a real");
    out.push_back(static_cast<double>(v));
  }
  return out;
}

StaticTensor decode_tensor(const onnx::TensorProto& t, const std::string& what) {
  if (t.has_segment()) throw UserError(what + ": segmented tensors are not supported");
  if (t.data_location() == onnx::TensorProto::EXTERNAL || t.external_data_size() > 0)
    throw UserError(what +
                    ": external tensor data is not supported (save the model with its "
                    "weights inside)");
  StaticTensor out;
  out.shape = checked_shape(t.dims(), what);
  const int64_t n = out.shape.numel();
  const bool raw = t.has_raw_data();
  const std::string& rd = t.raw_data();
  auto raw_bytes = [&](size_t width) {
    if (rd.size() != static_cast<size_t>(n) * width)
      throw UserError(what + ": raw_data has " + std::to_string(rd.size()) + " bytes, " +
                      dtype_name(t.data_type()) + " shape " + out.shape.str() + " needs " +
                      std::to_string(static_cast<size_t>(n) * width));
    return reinterpret_cast<const uint8_t*>(rd.data());
  };
  switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      out.elem = Elem::real;
      if (raw) {
        const uint8_t* p = raw_bytes(4);
        for (int64_t i = 0; i < n; ++i) out.real.push_back(detail::load_f32_le(p + 4 * i));
      } else {
        require_count(static_cast<size_t>(t.float_data_size()), n, what, "float_data");
        out.real.assign(t.float_data().begin(), t.float_data().end());
      }
      return out;
    case onnx::TensorProto::DOUBLE:
      out.elem = Elem::real;
      if (raw) {
        const uint8_t* p = raw_bytes(8);
        for (int64_t i = 0; i < n; ++i) out.real.push_back(detail::load_f64_le(p + 8 * i));
      } else {
        require_count(static_cast<size_t>(t.double_data_size()), n, what, "double_data");
        out.real.assign(t.double_data().begin(), t.double_data().end());
      }
      return out;
    case onnx::TensorProto::FLOAT16:
      out.elem = Elem::real;
      if (raw) {
        const uint8_t* p = raw_bytes(2);
        for (int64_t i = 0; i < n; ++i)
          out.real.push_back(half_to_double(detail::load_le<uint16_t>(p + 2 * i)));
      } else {
        require_count(static_cast<size_t>(t.int32_data_size()), n, what, "int32_data");
        for (int32_t v : t.int32_data())
          out.real.push_back(half_to_double(static_cast<uint16_t>(v)));
      }
      return out;
    case onnx::TensorProto::INT64:
      out.elem = Elem::integer;
      if (raw) {
        const uint8_t* p = raw_bytes(8);
        for (int64_t i = 0; i < n; ++i)
          out.ints.push_back(static_cast<int64_t>(detail::load_le<uint64_t>(p + 8 * i)));
      } else {
        require_count(static_cast<size_t>(t.int64_data_size()), n, what, "int64_data");
        out.ints.assign(t.int64_data().begin(), t.int64_data().end());
      }
      return out;
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::BOOL: {
      const int32_t type = t.data_type();
      out.elem = type == onnx::TensorProto::BOOL ? Elem::boolean : Elem::integer;
      const size_t width = type == onnx::TensorProto::INT32 ? 4 : 1;
      if (raw) {
        const uint8_t* p = raw_bytes(width);
        for (int64_t i = 0; i < n; ++i) {
          const uint8_t* q = p + width * static_cast<size_t>(i);
          int64_t v = type == onnx::TensorProto::INT32
                          ? static_cast<int32_t>(detail::load_le<uint32_t>(q))
                      : type == onnx::TensorProto::INT8 ? static_cast<int8_t>(*q)
                                                        : *q;
          out.ints.push_back(v);
        }
      } else {
        require_count(static_cast<size_t>(t.int32_data_size()), n, what, "int32_data");
        out.ints.assign(t.int32_data().begin(), t.int32_data().end());
      }
      if (out.elem == Elem::boolean)
        for (int64_t& v : out.ints) v = v != 0;
      return out;
    }
    default:
      throw UserError(what + ": unsupported tensor data type " + dtype_name(t.data_type()));
  }
}

onnx::ModelProto parse_model(std::span<const uint8_t> bytes, std::string_view source) {
  const std::string p(source);
  if (bytes.size() > kOnnxMaxBytes)
    throw UserError(p + ": " + std::to_string(bytes.size()) + " bytes exceed the limit of " +
                    std::to_string(kOnnxMaxBytes));
  google::protobuf::io::CodedInputStream in(bytes.data(), static_cast<int>(bytes.size()));
  in.SetRecursionLimit(64);  // ONNX nests graphs only inside control-flow attributes
  onnx::ModelProto m;
  if (!m.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    throw UserError(p +
                    ": not a valid ONNX model (protobuf ModelProto parse failed; truncated or "
                    "corrupt file?)");
  if (!m.has_graph()) throw UserError(p + ": ModelProto has no graph");
  return m;
}

// ---- attributes ----

namespace {
const char* attr_type_name(onnx::AttributeProto::AttributeType t) {
  switch (t) {
    case onnx::AttributeProto::FLOAT:
      return "FLOAT";
    case onnx::AttributeProto::INT:
      return "INT";
    case onnx::AttributeProto::STRING:
      return "STRING";
    case onnx::AttributeProto::TENSOR:
      return "TENSOR";
    case onnx::AttributeProto::GRAPH:
      return "GRAPH";
    case onnx::AttributeProto::FLOATS:
      return "FLOATS";
    case onnx::AttributeProto::INTS:
      return "INTS";
    case onnx::AttributeProto::STRINGS:
      return "STRINGS";
    default:
      return "another type";
  }
}
}  // namespace

Attributes::Attributes(const onnx::NodeProto& node) {
  for (const onnx::AttributeProto& a : node.attribute()) {
    if (!by_name_.emplace(a.name(), &a).second)
      throw UserError("attribute '" + a.name() + "' appears twice");
  }
}

const onnx::AttributeProto& Attributes::expect(const std::string& name,
                                               onnx::AttributeProto::AttributeType type) {
  const onnx::AttributeProto& a = *by_name_.at(name);
  read_.insert(name);
  // Old exporters leave `type` unset; then the populated field decides.
  onnx::AttributeProto::AttributeType have = a.type();
  if (have == onnx::AttributeProto::UNDEFINED) {
    if (a.has_f())
      have = onnx::AttributeProto::FLOAT;
    else if (a.has_i())
      have = onnx::AttributeProto::INT;
    else if (a.has_s())
      have = onnx::AttributeProto::STRING;
    else if (a.has_t())
      have = onnx::AttributeProto::TENSOR;
    else if (a.floats_size() > 0)
      have = onnx::AttributeProto::FLOATS;
    else if (a.ints_size() > 0)
      have = onnx::AttributeProto::INTS;
  }
  if (have != type)
    throw UserError("attribute '" + name + "' has type " + attr_type_name(have) + ", expected " +
                    attr_type_name(type));
  return a;
}

int64_t Attributes::get_int(const std::string& name, int64_t dflt) {
  return has(name) ? expect(name, onnx::AttributeProto::INT).i() : dflt;
}
float Attributes::get_float(const std::string& name, float dflt) {
  return has(name) ? expect(name, onnx::AttributeProto::FLOAT).f() : dflt;
}
std::string Attributes::get_string(const std::string& name, const std::string& dflt) {
  return has(name) ? expect(name, onnx::AttributeProto::STRING).s() : dflt;
}
std::optional<std::vector<int64_t>> Attributes::get_ints(const std::string& name) {
  if (!has(name)) return std::nullopt;
  const auto& a = expect(name, onnx::AttributeProto::INTS);
  return std::vector<int64_t>(a.ints().begin(), a.ints().end());
}
std::optional<std::vector<float>> Attributes::get_floats(const std::string& name) {
  if (!has(name)) return std::nullopt;
  const auto& a = expect(name, onnx::AttributeProto::FLOATS);
  return std::vector<float>(a.floats().begin(), a.floats().end());
}
const onnx::TensorProto* Attributes::get_tensor(const std::string& name) {
  return has(name) ? &expect(name, onnx::AttributeProto::TENSOR).t() : nullptr;
}

std::vector<std::string> Attributes::unread() const {
  std::vector<std::string> out;
  for (const auto& [name, a] : by_name_)
    if (!read_.contains(name)) out.push_back(name);
  return out;
}

}  // namespace onnx_detail
}  // namespace torchlean::io
