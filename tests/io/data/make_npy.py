#!/usr/bin/python3
"""Writes the tiny .npy fixtures read by tests/io/test_npy.cpp, using numpy itself as the writer.

Run from this directory with Debian's python3 (which has numpy): /usr/bin/python3 make_npy.py
The values are literals here and in the test; numpy decides the bytes.
"""
import numpy as np

# Plain v1.0 files, the way np.save writes them.
np.save("f4_2x3.npy", np.array([[1.5, -2.0, 0.25], [3.0, -0.0, 1e-3]], dtype="<f4"))
np.save("f8_special.npy", np.array([0.1, -0.0, np.inf, -np.inf, np.nan, 5e-324], dtype="<f8"))
np.save("f8_scalar.npy", np.array(2.5, dtype="<f8"))
np.save("f8_empty_0x3.npy", np.zeros((0, 3), dtype="<f8"))
np.save("i8_1d.npy", np.array([-3, 0, 7, 2**53], dtype="<i8"))
np.save("i4_2x2.npy", np.array([[1, -2], [2**31 - 1, -2**31]], dtype="<i4"))
np.save("i8_inexact.npy", np.array([2**53 + 1], dtype="<i8"))

# Rejected by the reader: column-major data, big-endian and half-precision dtypes.
np.save("f8_fortran.npy", np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)))
np.save("f4_bigendian.npy", np.array([1.0, 2.0], dtype=">f4"))
np.save("f2_half.npy", np.array([1.0], dtype="<f2"))

# Explicit format versions 2.0 and 3.0 (numpy picks them only for huge or non-latin1 headers).
for version in [(2, 0), (3, 0)]:
    with open(f"f8_v{version[0]}.npy", "wb") as f:
        np.lib.format.write_array(f, np.array([[1.0, 2.0], [3.0, 4.0]], dtype="<f8"), version=version)
