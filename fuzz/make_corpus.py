#!/usr/bin/python3
"""Writes the small seed corpus in fuzz/corpus_safetensors/ (json/struct only)."""
import json, os, struct

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus_safetensors')
os.makedirs(out, exist_ok=True)

def st(header, data=b''):
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - len(text) % 8) % 8)
    return struct.pack('<Q', len(text)) + text + data

def entry(dtype, shape, begin, end):
    return {'dtype': dtype, 'shape': shape, 'data_offsets': [begin, end]}

seeds = {
    'empty': st({}),
    'metadata_only': st({'__metadata__': {'format': 'pt', 'step': '10'}}),
    'f32_2x2': st({'w': entry('F32', [2, 2], 0, 16)}, struct.pack('<4f', 1, 2, 3, 4)),
    'scalar_i64': st({'step': entry('I64', [], 0, 8)}, struct.pack('<q', 1234)),
    'zero_size': st({'e': entry('F32', [0, 3], 0, 0)}),
    'bool': st({'m': entry('BOOL', [3], 0, 3)}, b'\x01\x00\x01'),
    'mixed': st({'__metadata__': {'k': 'v'}, 'a': entry('F64', [1], 0, 8),
                 'b': entry('I32', [2], 8, 16), 'c': entry('BF16', [2], 16, 20),
                 'd': entry('F16', [1, 1], 20, 22), 'e': entry('BOOL', [2], 22, 24)},
                struct.pack('<d2i', 0.5, -1, 7) + b'\x80\x3f\x20\xc0\x00\x3c\x01\x00'),
    'unordered_offsets': st({'b': entry('F32', [1], 0, 4), 'a': entry('F32', [1], 4, 8)},
                            b'\x00' * 8),
    'bad_dtype': st({'x': entry('U8', [1], 0, 1)}, b'\x00'),
    'hole': st({'x': entry('F32', [1], 4, 8)}, b'\x00' * 8),
    'short': b'\x10\x00\x00',
    # Empty, yet 2^62 * 2 overflows int64 in fx::numel: a UBSan finding, kept as a regression.
    'empty_shape_overflow': st({'t': entry('F32', [4611686018427387904, 2, 0], 0, 0)}),
}


def raw_header(text):
    text += b' ' * ((8 - len(text) % 8) % 8)
    return struct.pack('<Q', len(text)) + text


# 20,000 levels of [ ]: overflowed the stack in the error path before the depth bound (#17).
seeds['deep_nesting'] = raw_header(b'{"a":' + b'[' * 20000 + b']' * 20000 + b'}')
for name, data in seeds.items():
    with open(os.path.join(out, name + '.safetensors'), 'wb') as f:
        f.write(data)
print(len(seeds), 'seeds in', out)
