#!/usr/bin/python3
"""Writes small seed inputs for the CSV, NPY, JSON, IDX and PNG fuzz targets into
OUT/<name>/ (standard library only). Usage: make_seeds.py OUT"""
import gzip, json, os, struct, sys, zlib

out = sys.argv[1]


def put(name, file, data):
    os.makedirs(os.path.join(out, name), exist_ok=True)
    with open(os.path.join(out, name, file), 'wb') as f:
        f.write(data)


# CSV: header, comments, CRLF, BOM, exponents, a ragged row, a non-number.
put('csv', 'plain', b'x,y\n1,2\n3.5,-4e-2\n')
put('csv', 'messy', b'\xef\xbb\xbf# c\r\n a , b \r\n\r\n1,2\r\n+5,6e3\r\n')
put('csv', 'one_col', b'7\n8\n9\n')
put('csv', 'ragged', b'1,2\n3\n')
put('csv', 'nan', b'1,nan\n')


def npy(descr, shape, data, major=1):
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    prefix = 10 if major == 1 else 12
    d += ' ' * ((64 - (prefix + len(d) + 1) % 64) % 64) + '\n'
    size = struct.pack('<H' if major == 1 else '<I', len(d))
    return b'\x93NUMPY' + bytes([major, 0]) + size + d.encode() + data


put('npy', 'f4', npy('<f4', '(2, 2)', struct.pack('<4f', 1, 2, 3, 4)))
put('npy', 'f8_v2', npy('<f8', '(3,)', struct.pack('<3d', 0.5, -1, 2), 2))
put('npy', 'i4', npy('<i4', '(1, 3)', struct.pack('<3i', -7, 0, 9)))
put('npy', 'i8_v3', npy('<i8', '(2, 1)', struct.pack('<2q', 5, 6), 3))
put('npy', 'huge_shape', npy('<f4', '(4611686018427387904, 4)', b''))
put('npy_images', 'one_2x2', npy('<f4', '(1, 1, 2, 2)', struct.pack('<4f', 0, 0.25, 0.5, 1)))
put('npy_images', 'two_rgb', npy('<f4', '(2, 3, 1, 1)', struct.pack('<6f', *range(6))))
put('npy_images', 'points_not_images', npy('<f4', '(2, 2)', struct.pack('<4f', 1, 2, 3, 4)))

# JSON: a run config, a safetensors-like header, escapes, numbers, deep-ish nesting.
put('json', 'config', json.dumps({'method': 'rectified_flow', 'steps': 600, 'lr': 1e-3,
                                  'hidden': [64, 64], 'data': {'name': 'moons', 'n': None},
                                  'compile': False}).encode())
put('json', 'header', b'{"__metadata__":{"k":"v"},"w":{"dtype":"F32","shape":[2,2],'
                      b'"data_offsets":[0,16]}}')
put('json', 'escapes', b'["\\u00e9\\"\\\\\\n", -0.0, 1e308, 18446744073709551616, true]')
put('json', 'nested', b'[' * 30 + b']' * 30)

# Mixture targets: full covariance and the isotropic shorthand, and a bad weight sum.
put('mixture', 'two', json.dumps({'components': [
    {'weight': 0.5, 'mean': [0, 0], 'cov': [[1, 0.2], [0.2, 1]]},
    {'weight': 0.5, 'mean': [4, 0], 'std': 0.5}]}).encode())
put('mixture', 'three_d', json.dumps({'components': [
    {'weight': 1.0, 'mean': [1, 2, 3], 'std': 2}]}).encode())
put('mixture', 'bad_sum', json.dumps({'components': [
    {'weight': 0.3, 'mean': [0], 'std': 1}, {'weight': 0.3, 'mean': [1], 'std': 1}]}).encode())


def idx(dims, values):
    return bytes([0, 0, 8, len(dims)]) + b''.join(struct.pack('>I', d) for d in dims) + values


put('idx', 'plain', idx([3, 2, 2], bytes(range(12))))
put('idx', 'gzip', gzip.compress(idx([2, 3], bytes(range(6))), mtime=0))


def png(w, h, color, depth, rows, palette=None):
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack(
            '>I', zlib.crc32(kind + data) & 0xffffffff)
    raw = b''.join(b'\x00' + r for r in rows)
    body = chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, depth, color, 0, 0, 0))
    if palette:
        body += chunk(b'PLTE', palette)
    return b'\x89PNG\r\n\x1a\n' + body + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')


put('png', 'grey', png(3, 2, 0, 8, [b'\x00\x80\xff', b'\x10\x20\x30']))
put('png', 'rgb', png(2, 2, 2, 8, [b'\xff\x00\x00\x00\xff\x00', b'\x00\x00\xff\x80\x80\x80']))
put('png', 'rgba16', png(1, 1, 6, 16, [b'\x12\x34' * 4]))
put('png', 'palette', png(4, 1, 3, 2, [b'\x1b'], palette=b'\x00\x00\x00\xff\xff\xff\x80\x00\x00'
                                                         b'\x00\x80\x00'))
put('png', 'wide', png(5, 1, 0, 8, [b'\x01\x02\x03\x04\x05']))
