#include "fluxion/backend/cpu/codegen.h"

#include <algorithm>
#include <cmath>

#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx::cpu {

using namespace compiler;  // the fusion plan it generates code for

namespace {

// The text of backend/cpu/vector_math.h, embedded at configure time (CMakeLists.txt), so
// generated kernels use exactly the interpreter's exp/log/sigmoid/tanh.
const char* kVectorMath =
#include "fluxion/backend/cpu/vector_math_source.inc"
    ;

// The element type in memory; bf16 is stored as its 16 bits.
const char* ctype(DType d) {
  switch (d) {
    case DType::bf16:
      return "uint16_t";
    case DType::f32:
      return "float";
    case DType::f64:
      return "double";
    case DType::boolean:
      return "uint8_t";
    case DType::i32:
      return "int32_t";
    case DType::i64:
      return "int64_t";
    default:
      fail("codegen: no C type for {}", dtype_name(d));
  }
}

// The type a value has inside a kernel: bf16 is computed in f32, as the reference kernels
// do (kernels_elementwise.cpp, via_f32), and rounded to bf16 after every op.
const char* vtype(DType d) { return d == DType::bf16 ? "float" : ctype(d); }

std::string literal_text(const Tensor& t) {
  double v = t.at(0);
  switch (t.dtype()) {
    case DType::bf16:  // exact in f32
    case DType::f32:
      if (std::isnan(v)) return "__builtin_nanf(\"\")";
      if (std::isinf(v)) return v > 0 ? "__builtin_inff()" : "(-__builtin_inff())";
      return fmt::format("{:a}f", v);
    case DType::f64:
      if (std::isnan(v)) return "__builtin_nan(\"\")";
      if (std::isinf(v)) return v > 0 ? "__builtin_inf()" : "(-__builtin_inf())";
      return fmt::format("{:a}", v);
    case DType::boolean:
      return v != 0 ? "(uint8_t)1" : "(uint8_t)0";
    default:
      fail("codegen: no literal for {}", dtype_name(t.dtype()));
  }
}

// bf16 <-> f32 with core/half.cpp's rule, bit for bit: widening sets a NaN's quiet bit;
// rounding is to nearest even, and a NaN keeps its top payload bits and turns quiet. A
// rounded value is kept as the f32 it widens to, so a chain of bf16 ops stays in registers.
const char* kBf16Helpers = R"(static inline float fx_bf16_load(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  if ((u & 0x7fffffffu) > 0x7f800000u) u |= 0x00400000u;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}
static inline float fx_bf16_round(float f) {
  uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  uint32_t r = (u & 0x7fffffffu) > 0x7f800000u ? (u | 0x00400000u) : u + 0x7fffu + ((u >> 16) & 1u);
  r &= 0xffff0000u;
  __builtin_memcpy(&f, &r, 4);
  return f;
}
static inline uint16_t fx_bf16_bits(float f) {
  uint32_t u;
  __builtin_memcpy(&u, &f, 4);
  return (uint16_t)(u >> 16);
}

)";

// dst[j * ldd + c] = src[c * lds + j] for c, j < B (B 16 or 8): the tile of a blocked write
// (lds the tile's row, ldd = B), or of a blocked read (lds = B, ldd the tile's row).
// log2(B) perfect shuffles, each interleaving rows i and i + B/2 element by element, which
// rotates the bits of an element's position (row, column) by one: after log2(B), row and
// column have swapped. Two-source shuffles of whole vectors, where a scalar transpose
// costs a load and a store per element.
std::string transpose_helper(int B, const char* T, int bytes, const char* suffix) {
  std::string lo, hi;
  for (int m = 0; m < B / 2; ++m) {
    lo += fmt::format(", {}, {}", m, m + B);
    hi += fmt::format(", {}, {}", m + B / 2, m + B / 2 + B);
  }
  int stages = B == 16 ? 4 : 3;
  return fmt::format(
      "typedef {6} fx_v{0}{7} __attribute__((vector_size({1})));\n"
      "static inline void fx_transpose{0}{7}(const {6}* src, int64_t lds, {6}* dst, int64_t "
      "ldd) {{\n"
      "  fx_v{0}{7} r[{0}], t[{0}];\n"
      "  for (int c = 0; c < {0}; ++c) __builtin_memcpy(&r[c], src + c * lds, {1});\n"
      "  for (int stage = 0; stage < {2}; ++stage) {{\n"
      "    for (int i = 0; i < {3}; ++i) {{\n"
      "      t[2 * i] = __builtin_shufflevector(r[i], r[i + {3}]{4});\n"
      "      t[2 * i + 1] = __builtin_shufflevector(r[i], r[i + {3}]{5});\n"
      "    }}\n"
      "    for (int i = 0; i < {0}; ++i) r[i] = t[i];\n"
      "  }}\n"
      "  for (int j = 0; j < {0}; ++j) __builtin_memcpy(dst + j * ldd, &r[j], {1});\n"
      "}}\n",
      B, B * bytes, stages, B / 2, lo, hi, T, suffix);
}

// Parenthesised, so a negative literal never meets a minus sign ("--0x1p+0f").
std::string literal(const Tensor& t) { return "(" + literal_text(t) + ")"; }

// The value of node n from its operands' expressions: the op's OpDef::codegen rule, then
// the cast (or bf16 rounding) to its dtype.
std::string op_expr(const Node& n, const std::vector<std::string>& a, DType in_dtype) {
  const OpDef& d = op_def(n.op);
  FX_CHECK(d.has_codegen(), "codegen: {} has no expression", op_name(n.op));
  bool f32 = in_dtype == DType::f32 || in_dtype == DType::bf16;
  std::string e = d.codegen({n, a, f32, vtype(in_dtype)});
  if (n.dtype == DType::bf16) return fmt::format("fx_bf16_round((float)({}))", e);
  return fmt::format("({})({})", ctype(n.dtype), e);
}

// An input element as the kernel computes with it: bf16 widened to f32 (exact).
std::string loaded(DType d, const std::string& element) {
  return d == DType::bf16 ? "fx_bf16_load(" + element + ")" : element;
}

// Broadcast strides of an input over the domain's axes (0 on broadcast axes).
std::vector<int64_t> broadcast_strides(const Shape& s, const Shape& domain) {
  int r = (int)domain.size();
  std::vector<int64_t> st(r, 0);
  int64_t acc = 1;
  for (int i = r - 1, j = (int)s.size() - 1; i >= 0; --i, --j) {
    int64_t d = j >= 0 ? s[j] : 1;
    st[i] = (d == 1 && domain[i] != 1) ? 0 : acc;
    acc *= d;
  }
  return st;
}

struct Emitter {
  const Program& p;
  const FusedKernel& k;
  std::string out;
  std::vector<std::string> name;  // value id -> expression inside the loop
  std::vector<int> tiled;         // outputs stored into a tile first (blocked_elementwise)
  int64_t tile = 0;               // positions per tile row
  std::vector<int> tiled_inputs;  // blocked inputs read from a tile (blocked_elementwise)

  std::string value(int id) const {
    if (inlined_constant(p, id)) return literal(p.node(id).attrs.literal);
    return name[id];
  }

  // The domain with size-1 axes dropped and neighbours merged where every input steps
  // through both as one; per input, its element stride on each.
  std::pair<Shape, std::vector<std::vector<int64_t>>> merged_axes() const {
    std::vector<std::vector<int64_t>> st;
    for (int in : k.inputs) st.push_back(broadcast_strides(p.node(in).shape, k.domain));
    Shape dims = coalesce_axes(k.domain, st);
    return {dims, st};
  }

  // The loop body: one const local per member, outputs stored.
  std::string body(const std::string& ind, const std::string& store_index) {
    std::string s;
    for (int m : k.members) {
      const Node& n = p.node(m);
      if (n.op == Op::reduce_sum) continue;
      std::vector<std::string> a;
      for (int in : n.inputs) a.push_back(value(in));
      DType in_dtype = n.op == Op::where ? p.node(n.inputs[1]).dtype : p.node(n.inputs[0]).dtype;
      s += fmt::format("{}const {} v{} = {};\n", ind, vtype(n.dtype), m, op_expr(n, a, in_dtype));
    }
    for (size_t o = 0; o < k.outputs.size(); ++o) {
      int m = k.outputs[o];
      if (p.node(m).op == Op::reduce_sum) continue;
      // A bf16 value is already rounded: its top 16 bits are the stored pattern.
      std::string v = p.node(m).dtype == DType::bf16 ? fmt::format("fx_bf16_bits(v{})", m)
                                                     : fmt::format("v{}", m);
      s += fmt::format("{}y{}[{}] = {};\n", ind, m, store_index, v);
    }
    return s;
  }

  void signature(const std::string& sym) {
    out += fmt::format("extern \"C\" void {}(int64_t lo, int64_t hi, void* const* buf) {{\n", sym);
    int b = 0;
    for (int in : k.inputs) {
      const char* T = ctype(p.node(in).dtype);
      out += fmt::format("  const {0}* __restrict x{1} = (const {0}*)buf[{2}];\n", T, in, b++);
    }
    for (int o : k.outputs) {
      const char* T = ctype(p.node(o).dtype);
      out += fmt::format("  {0}* __restrict y{1} = ({0}*)buf[{2}];\n", T, o, b++);
    }
  }

  // The flat loop over domain positions [first, last): merged-axis layout, rows of the
  // innermost merged axis. Stores the outputs and, for a row-sum kernel, each sum's operand
  // into its scratch row t<id> at pos - base.
  void flat_loop(const std::string& ind, const std::string& first, const std::string& last,
                 const std::string& base) {
    // Merge adjacent axes where every operand allows it (outputs are contiguous).
    auto [dims, ms] = merged_axes();
    if (dims.empty()) {
      dims.push_back(1);
      for (auto& v : ms) v.push_back(0);
    }
    int m = (int)dims.size();
    int64_t inner = dims[m - 1];
    std::string i2 = ind + "  ";
    out += fmt::format("{0}int64_t pos = {1};\n{0}while (pos < {2}) {{\n", ind, first, last);
    out += fmt::format("{0}const int64_t row = pos / {1}, j0 = pos - row * {1};\n", i2, inner);
    out += fmt::format("{0}const int64_t len = {1} - j0 < {2} - pos ? {1} - j0 : {2} - pos;\n", i2,
                       inner, last);
    if (m > 1) {
      out += i2 + "int64_t t = row;\n";
      for (int i = m - 2; i >= 0; --i)
        out += fmt::format("{0}const int64_t i{1} = t % {2}; t /= {2};\n", i2, i, dims[i]);
      out += i2 + "(void)t;\n";
    }
    name.assign(p.size(), "");
    for (size_t q = 0; q < k.inputs.size(); ++q) {
      int in = k.inputs[q];
      std::string off = "0";
      for (int i = 0; i < m - 1; ++i)
        if (ms[q][i] != 0) off += fmt::format(" + i{} * {}", i, ms[q][i]);
      DType d = p.node(in).dtype;
      if (std::find(tiled_inputs.begin(), tiled_inputs.end(), in) != tiled_inputs.end()) {
        // A blocked input, as its tile holds this channel row (its shape is the domain's).
        out += fmt::format("{0}const {1}* __restrict r{2} = ti{2} + cb * {3} + (pos - ({4}));\n",
                           i2, ctype(d), in, tile, first);
        name[in] = loaded(d, fmt::format("r{}[j]", in));
      } else if (ms[q][m - 1] == 0) {
        out += fmt::format("{}const {} s{} = {};\n", i2, vtype(d), in,
                           loaded(d, fmt::format("x{}[{}]", in, off)));
        name[in] = fmt::format("s{}", in);
      } else {
        out += fmt::format("{0}const {1}* __restrict r{2} = x{2} + {3} + j0 * {4};\n", i2, ctype(d),
                           in, off, ms[q][m - 1]);
        name[in] = loaded(d, ms[q][m - 1] == 1 ? fmt::format("r{}[j]", in)
                                               : fmt::format("r{}[j * {}]", in, ms[q][m - 1]));
      }
    }
    for (int mbr : k.members) name[mbr] = fmt::format("v{}", mbr);
    for (int o : k.outputs)
      if (std::find(tiled.begin(), tiled.end(), o) != tiled.end())
        out += fmt::format("{0}{4}* __restrict w{1} = b{1} + cb * {2} + (pos - ({3}));\n", i2, o,
                           tile, first, ctype(p.node(o).dtype));
      else if (p.node(o).op != Op::reduce_sum)
        out +=
            fmt::format("{0}{1}* __restrict w{2} = y{2} + pos;\n", i2, ctype(p.node(o).dtype), o);
    for (int red : k.reduces)
      out += fmt::format("{0}{1}* __restrict u{2} = t{2} + (pos - ({3}));\n", i2,
                         ctype(p.node(red).dtype), red, base);
    out += "#pragma GCC ivdep\n" + i2 + "for (int64_t j = 0; j < len; ++j) {\n";
    std::string b = body(i2 + "  ", "j");
    // Stores go through the row pointers.
    for (int o : k.outputs) {
      std::string from = fmt::format("y{}[j]", o), to = fmt::format("w{}[j]", o);
      for (size_t at = b.find(from); at != std::string::npos; at = b.find(from, at))
        b.replace(at, from.size(), to);
    }
    for (int red : k.reduces)
      b += fmt::format("{}  u{}[j] = v{};\n", i2, red, p.node(red).inputs[0]);
    out += b + i2 + "}\n" + i2 + "pos += len;\n" + ind + "}\n";
  }

  // Elementwise: the flat loop over [lo, hi).
  void elementwise(const std::string& sym) {
    signature(sym);
    flat_loop("  ", "lo", "hi", "");
    out += "}\n\n";
  }

  // One piece [h0, h0 + hl) of unit u between its blocked memory (the kernel's argument
  // `memory`, [H*W][B] per unit) and a tile [B][kTile]: into the tile (a blocked read) or out
  // of it (a blocked write), B positions at a time with the register transpose, the rest
  // element by element.
  void transpose_piece(bool to_tile, DType dt, const std::string& memory, const std::string& tile,
                       int64_t B, int64_t kTile, int64_t HW) {
    const char* T = ctype(dt);
    const char* sfx = std::string(T) == "float" ? "" : "_u16";
    out += fmt::format("      {{\n      {}{} * __restrict z = {} + (u * {} + h0) * {};\n",
                       to_tile ? "const " : "", T, memory, HW, B);
    out += "      int64_t j = 0;\n";
    out += fmt::format("      for (; j + {0} <= hl; j += {0})\n", B);
    if (to_tile)
      out += fmt::format("        fx_transpose{0}{1}(z + j * {0}, {0}, {2} + j, {3});\n", B, sfx,
                         tile, kTile);
    else
      out += fmt::format("        fx_transpose{0}{1}({2} + j, {3}, z + j * {0}, {0});\n", B, sfx,
                         tile, kTile);
    out += fmt::format("      for (; j < hl; ++j)\n        for (int64_t c = 0; c < {}; ++c) ", B);
    out += to_tile ? fmt::format("{}[c * {} + j] = z[j * {} + c];\n", tile, kTile, B)
                   : fmt::format("z[j * {} + c] = {}[c * {} + j];\n", B, tile, kTile);
    out += "      }\n";
  }

  // Prefetches spread over the B rows of a piece, 1/B of a piece's lines after each row,
  // so that the memory traffic of the tile's transposes overlaps the rows' arithmetic
  // instead of stalling in one burst (measured: the blocked writes and reads of a DDIM
  // call's kernels 5-20% faster, bench/RESULTS.md session 16). They change no value.
  void prefetch_lines(const std::string& base, int rw, int64_t B, int64_t piece_bytes_per_pos,
                      const std::string& count) {
    out += fmt::format(
        "          const char* z = (const char*)({0});\n"
        "          const int64_t lines = ({1} * {2} + 63) / 64;\n"
        "          for (int64_t l = lines * cb / {3}; l < lines * (cb + 1) / {3}; ++l)\n"
        "            __builtin_prefetch(z + l * 64, {4}, 3);\n",
        base, count, piece_bytes_per_pos, B, rw);
  }
  // A blocked output: this piece's lines, in writable state (prefetchw), so the transposed
  // stores find them in cache instead of each waiting for its read-for-ownership.
  void prefetch_for_write(const std::string& memory, int o, int64_t B, int64_t HW) {
    out += "        {\n";
    prefetch_lines(fmt::format("{} + (u * {} + h0) * {}", memory, HW, B), 1, B,
                   B * (int64_t)dtype_size(p.node(o).dtype), "hl");
    out += "        }\n";
  }
  // A blocked input: the next piece's lines (this unit's next positions, else the next
  // unit's first), which its transpose into the tile then reads from cache.
  void prefetch_next_read(int in, int64_t B, int64_t HW, int64_t kTile) {
    out += fmt::format(
        "        {{\n"
        "          const bool more = h0 + {1} < {0};\n"
        "          const int64_t nu = more ? u : u + 1, nh = more ? h0 + {1} : 0;\n"
        "          const int64_t nl = {0} - nh < {1} ? {0} - nh : {1};\n"
        "          if (nu < hi) {{\n",
        HW, kTile);
    prefetch_lines(fmt::format("x{} + (nu * {} + nh) * {}", in, HW, B), 0, B,
                   B * (int64_t)dtype_size(p.node(in).dtype), "nl");
    out += "          }\n        }\n";
  }

  // Elementwise, with outputs stored in a convolution's blocked layout nChw<B>c (the layout
  // assignment's blocked writes): units [lo, hi) are B channels of one image, i.e. B rows
  // of the NCHW domain, which is also one run of H*W*B floats of the blocked output. Each
  // unit runs the flat loop row by row over pieces of kTile positions, the blocked outputs
  // into an L1 tile [B][kTile], then stores the tile transposed, the B channels of a
  // position side by side. Plain outputs are stored as usual. The values are the flat
  // loop's, so the bits are those of the plain kernel.
  //
  // Blocked inputs (a convolution's result left in its layout) go the other way: each
  // piece of the unit, [kTile][B] in memory, is transposed into a tile [B][kTile] first,
  // which the flat loop reads as the channel rows.
  //
  // The units are channels of the NCHW view, which need not be the domain: over GroupNorm's
  // [N, G, C/G, H*W] the flat loop takes the same runs of positions.
  void blocked_elementwise(const std::string& sym, int64_t B, int64_t HW) {
    const int64_t kTile = std::min<int64_t>(HW, 1024);
    tile = kTile;
    std::vector<int> copied;  // outputs stored plain, then copied blocked from those rows
    for (size_t i = 0; i < k.outputs.size(); ++i)
      if (k.block_of(i)) (k.keeps_plain(i) ? copied : tiled).push_back(k.outputs[i]);
    for (size_t i = 0; i < k.inputs.size(); ++i)
      if (k.input_block(i)) tiled_inputs.push_back(k.inputs[i]);
    signature(sym);
    int arg = (int)(k.inputs.size() + k.outputs.size());
    for (int o : copied) {
      const char* T = ctype(p.node(o).dtype);
      out += fmt::format("  {0}* __restrict c{1} = ({0}*)buf[{2}];\n", T, o, arg++);
    }
    for (int o : tiled) out += fmt::format("  {} b{}[{}];\n", ctype(p.node(o).dtype), o, B * kTile);
    for (int in : tiled_inputs)
      out += fmt::format("  {} ti{}[{}];\n", ctype(p.node(in).dtype), in, B * kTile);
    out += "  for (int64_t u = lo; u < hi; ++u) {\n";
    out += fmt::format("    for (int64_t h0 = 0; h0 < {0}; h0 += {1}) {{\n", HW, kTile);
    out += fmt::format("      const int64_t hl = {0} - h0 < {1} ? {0} - h0 : {1};\n", HW, kTile);
    for (int in : tiled_inputs)
      transpose_piece(true, p.node(in).dtype, fmt::format("x{}", in), fmt::format("ti{}", in), B,
                      kTile, HW);
    out += fmt::format("      for (int64_t cb = 0; cb < {}; ++cb) {{\n", B);
    out += fmt::format("        const int64_t p0 = (u * {} + cb) * {} + h0;\n", B, HW);
    flat_loop("        ", "p0", "p0 + hl", "");
    for (int o : tiled) prefetch_for_write(fmt::format("y{}", o), o, B, HW);
    for (int o : copied) prefetch_for_write(fmt::format("c{}", o), o, B, HW);
    for (int in : tiled_inputs) prefetch_next_read(in, B, HW, kTile);
    out += "      }\n";
    for (int o : tiled)
      transpose_piece(false, p.node(o).dtype, fmt::format("y{}", o), fmt::format("b{}", o), B,
                      kTile, HW);
    // The plain rows just stored are the tile: B rows HW apart.
    for (int o : copied)
      transpose_piece(false, p.node(o).dtype, fmt::format("c{}", o),
                      fmt::format("(y{} + u * {} + h0)", o, B * HW), B, HW, HW);
    out += "    }\n";
    group_sums(B, HW);
    out += "  }\n}\n\n";
  }

  // The unit's group sums (group_sums.h), once its rows are all stored: each row of L values
  // is a run of the unit's B * H * W in the plain output, still in cache, added up in the
  // library's 16 f64 lanes (j mod 16, the last ones padded with +0, combined pairwise). A
  // row's adds form one chain per lane vector, bound by the add's latency, so the rows are
  // taken a few at a time, side by side: each keeps its own lanes, so the bits do not change.
  void group_sums(int64_t B, int64_t HW) {
    for (const FusedKernel::GroupSum& g : k.group_sums) {
      const int64_t L = p.node(p.node(g.sum).inputs[0]).shape.back(), rows = B * HW / L;
      int64_t side = std::min<int64_t>(rows, 4);
      while (rows % side != 0) --side;
      out += fmt::format("    for (int64_t r0 = 0; r0 < {}; r0 += {}) {{\n", rows, side);
      out += fmt::format("      const float* __restrict t = y{} + u * {} + r0 * {};\n", g.of,
                         B * HW, L);
      row_lanes(L, side, "s", [](int64_t) { return std::string("x"); });
      for (int64_t r = 0; r < side; ++r)
        out += fmt::format("      y{}[u * {} + r0 + {}] = (float)fx_sum16(s{}_lo, s{}_hi);\n",
                           g.sum, rows, r, r, r);
      if (g.squares >= 0) {
        // The variance's: (x - mean)^2 (the pass checked that its kernel is sub, then mul of
        // the difference by itself), the mean by the graph's own division.
        const Node& dev = p.node(p.node(p.node(g.squares).inputs[0]).inputs[0]);
        const Node& mean = p.node(dev.inputs[1]);
        const std::string count = literal(p.node(mean.inputs[1]).attrs.literal);
        for (int64_t r = 0; r < side; ++r)
          out += fmt::format(
              "      const float m{} = {};\n", r,
              op_expr(mean, {fmt::format("y{}[u * {} + r0 + {}]", g.sum, rows, r), count},
                      DType::f32));
        row_lanes(L, side, "v",
                  [](int64_t r) { return fmt::format("((x - m{0}) * (x - m{0}))", r); });
        for (int64_t r = 0; r < side; ++r)
          out += fmt::format("      y{}[u * {} + r0 + {}] = (float)fx_sum16(v{}_lo, v{}_hi);\n",
                             g.squares, rows, r, r, r);
      }
      out += "    }\n";
    }
  }

  // `side` rows of L floats from t into the lane vectors <acc><r>_lo and _hi, each value x
  // taken as term(r) (an expression in x that works on 16 floats and on one alike).
  template <typename Term>
  void row_lanes(int64_t L, int64_t side, const std::string& acc, const Term& term) {
    for (int64_t r = 0; r < side; ++r)
      out += fmt::format("      fx_d8 {0}{1}_lo = {{}}, {0}{1}_hi = {{}};\n", acc, r);
    const int64_t full = L / 16 * 16;
    out += fmt::format("      for (int64_t j = 0; j < {}; j += 16) {{\n", full);
    for (int64_t r = 0; r < side; ++r)
      out += fmt::format(
          "        {{\n          fx_v16 x;\n          __builtin_memcpy(&x, t + {1} + j, 64);\n"
          "          const fx_v16 y = {2};\n          float w[16];\n"
          "          __builtin_memcpy(w, &y, 64);\n          {0}{3}_lo += fx_widen8(w);\n"
          "          {0}{3}_hi += fx_widen8(w + 8);\n        }}\n",
          acc, r * L, term(r), r);
    out += "      }\n";
    if (full == L) return;
    for (int64_t r = 0; r < side; ++r)  // the last values, the other lanes +0
      out += fmt::format(
          "      {{\n        float w[16] = {{}};\n"
          "        for (int64_t q = 0; q < {1}; ++q) {{\n          const float x = t[{2} + q];\n"
          "          w[q] = {3};\n        }}\n        {0}{4}_lo += fx_widen8(w);\n"
          "        {0}{4}_hi += fx_widen8(w + 8);\n      }}\n",
          acc, L - full, r * L + full, term(r), r);
  }

  // Adds scratch values t<red>[from - base, to - base), row positions [from, to), into the
  // row's partial sums in the reference kernel's order (kernels_reduce.cpp): rows of at
  // least 64 values (kWideRowSum) in 16 lanes (j mod 16) as two vectors of 8 doubles,
  // which stay in registers (one vector of 16 lives on the stack); a last short piece is
  // padded with +0, which leaves every lane as it was (a lane starts at +0, so it is never
  // -0). Shorter rows in 4 lanes (j mod 4) below the last multiple of 4, the tail into
  // the first. Pieces start at multiples of 16.
  void accumulate(const std::string& ind, int red, const std::string& from, const std::string& to,
                  const std::string& base, int64_t C) {
    if (C >= kWideRowSum) {
      out += fmt::format("{0}{{\n{0}  int64_t j = {1};\n", ind, from);
      out += fmt::format(
          "{0}  for (; j + 16 <= {1}; j += 16) {{\n"
          "{0}    a{2}_lo += fx_widen8(t{2} + (j - ({3})));\n"
          "{0}    a{2}_hi += fx_widen8(t{2} + (j - ({3})) + 8);\n{0}  }}\n",
          ind, to, red, base);
      out += fmt::format(
          "{0}  if (j < {1}) {{\n{0}    {4} pad[16] = {{}};\n"
          "{0}    for (int64_t q = 0; j + q < {1}; ++q) pad[q] = t{2}[j + q - ({3})];\n"
          "{0}    a{2}_lo += fx_widen8(pad);\n{0}    a{2}_hi += fx_widen8(pad + 8);\n"
          "{0}  }}\n{0}}}\n",
          ind, to, red, base, ctype(p.node(red).dtype));
      return;
    }
    int64_t C4 = C - C % 4;
    out += fmt::format("{0}{{\n{0}  const int64_t full = {1} < {2} ? {1} : {2};\n", ind, to, C4);
    out += fmt::format("{0}  int64_t j = {1};\n", ind, from);
    out += fmt::format("{0}  for (; j < full; j += 4) a{1} += fx_widen4(t{1} + (j - ({2})));\n",
                       ind, red, base);
    out += fmt::format("{0}  for (; j < {1}; ++j) a{2}[0] += t{2}[j - ({3})];\n{0}}}\n", ind, to,
                       red, base);
  }

  // Row sums: the last axis (C values) is a row; rows [lo, hi). The elementwise part runs as
  // the flat vectorised loop over blocks of whole rows (or pieces of one long row), keeping
  // each sum's operand in an L1-sized scratch; the sums then add the scratch in f64 as 16
  // partial sums (j mod 16, rows of 64 or more) or 4 (j mod 4), added pairwise: the
  // reference kernel's order (kernels_reduce.cpp), so the bits agree. Summing while computing (one
  // element at a time) kept short rows of a GroupNorm or a conv bias gradient from
  // vectorising at all.
  void row_reduce(const std::string& sym) {
    int64_t C = k.domain.back();
    constexpr int64_t kScratch = 2048;  // a multiple of 16, so lanes line up across pieces
    signature(sym);
    for (int red : k.reduces)
      out += fmt::format("  {} t{}[{}];\n", ctype(p.node(red).dtype), red, kScratch);
    const bool wide = C >= kWideRowSum;
    auto init = [&](const std::string& ind) {
      for (int red : k.reduces)
        out += wide ? fmt::format("{0}fx_d8 a{1}_lo = {{}}, a{1}_hi = {{}};\n", ind, red)
                    : fmt::format("{}fx_d4 a{} = {{0, 0, 0, 0}};\n", ind, red);
    };
    auto finish = [&](const std::string& ind, const std::string& row) {
      for (int red : k.reduces)
        out +=
            wide ? fmt::format("{0}y{1}[{2}] = ({3})fx_sum16(a{1}_lo, a{1}_hi);\n", ind, red, row,
                               ctype(p.node(red).dtype))
                 : fmt::format("{0}y{1}[{2}] = ({3})((a{1}[0] + a{1}[1]) + (a{1}[2] + a{1}[3]));\n",
                               ind, red, row, ctype(p.node(red).dtype));
    };
    if (C <= kScratch) {
      int64_t rows = kScratch / C;
      out += fmt::format("  for (int64_t rb = lo; rb < hi; rb += {}) {{\n", rows);
      out += fmt::format("    const int64_t re = hi - rb < {0} ? hi : rb + {0};\n", rows);
      flat_loop("    ", fmt::format("rb * {}", C), fmt::format("re * {}", C),
                fmt::format("rb * {}", C));
      out += "    for (int64_t rr = rb; rr < re; ++rr) {\n";
      init("      ");
      for (int red : k.reduces)
        accumulate("      ", red, "0", std::to_string(C), fmt::format("(rb - rr) * {}", C), C);
      finish("      ", "rr");
      out += "    }\n  }\n}\n\n";
    } else {
      out += "  for (int64_t rr = lo; rr < hi; ++rr) {\n";
      init("    ");
      out += fmt::format("    for (int64_t cs = 0; cs < {}; cs += {}) {{\n", C, kScratch);
      out +=
          fmt::format("      const int64_t ce = {0} - cs < {1} ? {0} : cs + {1};\n", C, kScratch);
      flat_loop("      ", fmt::format("rr * {} + cs", C), fmt::format("rr * {} + ce", C),
                fmt::format("rr * {} + cs", C));
      for (int red : k.reduces) accumulate("      ", red, "cs", "ce", "cs", C);
      out += "    }\n";
      finish("    ", "rr");
      out += "  }\n}\n\n";
    }
  }

  // Names the inputs of a column-sum kernel for the row `r` of its [R, C] view (the row's
  // scalars are loaded into `pre`): the domain's shape at r * C + col, one value per row
  // at r, one per column at col, a scalar once. Classified by shape, not element count:
  // [R, 1] and [C] have the same count when R == C. (Fusion lets only these shapes in:
  // fusion.cpp, column_readable.)
  std::string name_column_inputs(const std::string& ind, int64_t C, const std::string& col) {
    std::string pre;
    for (int in : k.inputs) {
      const Shape& s = p.node(in).shape;
      DType d = p.node(in).dtype;
      if (numel(s) == 1) {
        pre += fmt::format("{}const {} s{} = {};\n", ind, vtype(d), in,
                           loaded(d, fmt::format("x{}[0]", in)));
        name[in] = fmt::format("s{}", in);
      } else if (s == k.domain) {
        name[in] = loaded(d, fmt::format("x{}[r * {} + {}]", in, C, col));
      } else if (s.size() == k.domain.size() && s.back() == 1) {  // one value per row
        pre += fmt::format("{}const {} s{} = {};\n", ind, vtype(d), in,
                           loaded(d, fmt::format("x{}[r]", in)));
        name[in] = fmt::format("s{}", in);
      } else {  // one value per column
        name[in] = loaded(d, fmt::format("x{}[{}]", in, col));
      }
    }
    for (int mbr : k.members) name[mbr] = fmt::format("v{}", mbr);
    return pre;
  }

  // Domain [R, C] with column sums: columns [lo, hi) in blocks, rows streamed in order, sums
  // accumulated in f64 per column exactly as the reference reduce kernel does.
  void column_reduce(const std::string& sym) {
    int64_t R = k.domain[0], C = k.domain[1];
    signature(sym);
    name.assign(p.size(), "");
    constexpr int kBlock = 64;
    out += fmt::format("  for (int64_t c0 = lo; c0 < hi; c0 += {}) {{\n", kBlock);
    out += fmt::format("    const int64_t len = hi - c0 < {0} ? hi - c0 : {0};\n", kBlock);
    for (int red : k.reduces) out += fmt::format("    double acc{}[{}];\n", red, kBlock);
    out += fmt::format("    for (int64_t r = 0; r < {}; ++r) {{\n", R);
    out += name_column_inputs("      ", C, "c0 + j");
    out += "#pragma GCC ivdep\n      for (int64_t j = 0; j < len; ++j) {\n";
    out += body("        ", fmt::format("r * {} + c0 + j", C));
    for (int red : k.reduces) {
      int src = p.node(red).inputs[0];
      out += fmt::format("        acc{0}[j] = r == 0 ? (double)v{1} : acc{0}[j] + (double)v{1};\n",
                         red, src);
    }
    out += "      }\n    }\n";
    for (int red : k.reduces)
      out += fmt::format("    for (int64_t j = 0; j < len; ++j) y{0}[c0 + j] = ({1})acc{0}[j];\n",
                         red, ctype(p.node(red).dtype));
    out += "  }\n}\n\n";
  }

  // Domain [A, B, C] with sums over B (a sum over batch and time, split): runs [lo, hi) of
  // A, each summed over its B full rows in f64 per column, in row order, as the reference
  // kernel sums axis 1; rows are whole, so the vector loop is long and reads contiguously.
  void segment_reduce(const std::string& sym) {
    const int64_t B = k.domain[1], C = k.domain[2];
    signature(sym);
    name.assign(p.size(), "");
    for (int red : k.reduces) out += fmt::format("  double acc{}[{}];\n", red, C);
    out += "  for (int64_t a = lo; a < hi; ++a) {\n";
    out += fmt::format("    for (int64_t b = 0; b < {}; ++b) {{\n", B);
    out += fmt::format("      const int64_t r = a * {} + b;\n", B);
    out += name_column_inputs("      ", C, "j");
    out += fmt::format("#pragma GCC ivdep\n      for (int64_t j = 0; j < {}; ++j) {{\n", C);
    out += body("        ", fmt::format("r * {} + j", C));
    for (int red : k.reduces) {
      int src = p.node(red).inputs[0];
      out += fmt::format("        acc{0}[j] = b == 0 ? (double)v{1} : acc{0}[j] + (double)v{1};\n",
                         red, src);
    }
    out += "      }\n    }\n";
    for (int red : k.reduces)
      out +=
          fmt::format("    for (int64_t j = 0; j < {2}; ++j) y{0}[a * {2} + j] = ({1})acc{0}[j];\n",
                      red, ctype(p.node(red).dtype), C);
    out += "  }\n}\n\n";
  }
};

}  // namespace

std::string generate_source(const Program& p, const FusionPlan& plan,
                            std::vector<KernelInfo>* info) {
  std::string src =
      "// Generated by fluxion's compiler (src/fluxion/backend/cpu/codegen.cpp). One function per\n"
      "// fused kernel; see the fusion dump beside this file for the graph nodes of each.\n"
      "#include <cmath>\n#include <cstdint>\n#include <immintrin.h>\n";
  std::string vm = kVectorMath;
  size_t once = vm.find("#pragma once");
  if (once != std::string::npos) vm.erase(once, 12);
  src += vm + "\nusing namespace fx::cpu;\n\n";
  // The row sums' partial sums: 4 f64 lanes, or 16 as two vectors of 8; float or double scratch
  // widened exactly; the lanes added pairwise as kernels_reduce.cpp's combine_lanes does.
  src +=
      "typedef double fx_d4 __attribute__((vector_size(32)));\n"
      "typedef float fx_f4 __attribute__((vector_size(16)));\n"
      "static inline fx_d4 fx_widen4(const float* p) {\n"
      "  fx_f4 v;\n  __builtin_memcpy(&v, p, sizeof v);\n"
      "  return __builtin_convertvector(v, fx_d4);\n}\n"
      "static inline fx_d4 fx_widen4(const double* p) {\n"
      "  fx_d4 v;\n  __builtin_memcpy(&v, p, sizeof v);\n  return v;\n}\n"
      "typedef double fx_d8 __attribute__((vector_size(64)));\n"
      "typedef float fx_f8 __attribute__((vector_size(32)));\n"
      // One vcvtps2pd ymm -> zmm on AVX-512, where GCC 12 lowers the generic conversion to
      // two halves and an insert: a GroupNorm variance kernel 0.14 -> 0.11 ms (exact either
      // way: every float is a double).
      "static inline fx_d8 fx_widen8(const float* p) {\n"
      "#ifdef __AVX512F__\n"
      "  return (fx_d8)_mm512_cvtps_pd(_mm256_loadu_ps(p));\n"
      "#else\n"
      "  fx_f8 v;\n  __builtin_memcpy(&v, p, sizeof v);\n"
      "  return __builtin_convertvector(v, fx_d8);\n"
      "#endif\n}\n"
      "static inline fx_d8 fx_widen8(const double* p) {\n"
      "  fx_d8 v;\n  __builtin_memcpy(&v, p, sizeof v);\n  return v;\n}\n"
      "static inline double fx_sum16(fx_d8 lo, fx_d8 hi) {\n"
      "  double l[16];\n  __builtin_memcpy(l, &lo, sizeof lo);\n"
      "  __builtin_memcpy(l + 8, &hi, sizeof hi);\n"
      "  for (int w = 8; w >= 1; w /= 2)\n"
      "    for (int k = 0; k < w; ++k) l[k] = l[k] + l[k + w];\n"
      "  return l[0];\n}\n\n";
  src += kBf16Helpers;
  // Float tiles, and bf16 ones as their 16 bits.
  src += "\n" + transpose_helper(16, "float", 4, "") + transpose_helper(8, "float", 4, "") +
         transpose_helper(16, "uint16_t", 2, "_u16") + transpose_helper(8, "uint16_t", 2, "_u16") +
         "\n";
  info->clear();
  for (size_t i = 0; i < plan.kernels.size(); ++i) {
    const FusedKernel& k = plan.kernels[i];
    Emitter e{p, k, "", {}, {}, 0};
    KernelInfo ki;
    ki.symbol = fmt::format("fx_k{}", i);
    std::string comment = fmt::format("// kernel {}: domain {}, {} members, reads", i,
                                      shape_str(k.domain), k.members.size());
    for (int in : k.inputs) comment += fmt::format(" %{}", in);
    comment += ", writes";
    for (int o : k.outputs) comment += fmt::format(" %{}", o);
    e.out = comment + "\n";
    if (int block = k.block(); block > 0) {
      const int64_t hw = k.block_positions;
      e.blocked_elementwise(ki.symbol, block, hw);
      ki.range = numel(k.domain) / (block * hw);
      ki.grain = std::max<int64_t>(1, 16384 / (block * hw));
    } else if (k.reduces.empty()) {
      e.elementwise(ki.symbol);
      ki.range = numel(k.domain);
      ki.grain = 16384;  // as the reference kernels
    } else if (k.row_sums) {
      e.row_reduce(ki.symbol);
      int64_t cols = std::max<int64_t>(k.domain.back(), 1);
      ki.range = numel(k.domain) / cols;
      ki.grain = std::max<int64_t>(1, 16384 / cols);
    } else if (k.domain.size() == 3) {
      e.segment_reduce(ki.symbol);
      ki.range = k.domain[0];
      ki.grain = 1;
    } else {
      e.column_reduce(ki.symbol);
      ki.range = k.domain[1];
      ki.grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(k.domain[0], 1));
    }
    src += e.out;
    info->push_back(ki);
  }
  return src;
}

}  // namespace fx::cpu
