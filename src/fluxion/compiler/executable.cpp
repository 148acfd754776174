// compile(): the pipeline, fusion, code generation, liveness, donation and memory plan in
// sequence (each its own unit); Executable::run().
#include <chrono>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/backend/cpu/kernels_scan.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/compiler/donation.h"
#include "fluxion/compiler/group_sums.h"
#include "fluxion/compiler/liveness.h"
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"
#include "fluxion/util/env.h"

namespace fx::compiler {

namespace fs = std::filesystem;

namespace {

RematOptions remat_options(const CompileOptions& options) {
  RematOptions r;
  r.recompute_scans = options.recompute_scans;
  return r;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  if (!f) std::fprintf(stderr, "fluxion compiler: cannot write dump %s\n", path.c_str());
}

// Library ops whose kernels write into a given buffer, so their results join the memory plan.
bool writes_into_buffer(Op op) {
  return op == Op::dot || op == Op::linear_scan || is_convolution(op);
}

using util::env_flag;
bool log_enabled() { return env_flag("FLUXION_COMPILER_LOG"); }

std::string mb(size_t bytes) { return fmt::format("{:.2f} MB", bytes / 1048576.0); }

// FLUXION_DUMP (or the option) names a root; each graph gets <root>/<hash>/. Empty: no dump.
fs::path open_dump_dir(const std::string& option, uint64_t graph_hash) {
  std::string root = option;
  if (root.empty())
    if (const char* d = std::getenv("FLUXION_DUMP"); d && *d) root = d;
  if (root.empty()) return {};
  fs::path dump = fs::path(root) / fmt::format("{:016x}", graph_hash);
  std::error_code ec;
  fs::create_directories(dump, ec);
  if (ec) {
    std::fprintf(stderr, "fluxion compiler: cannot create dump dir %s: %s\n", dump.c_str(),
                 ec.message().c_str());
    return {};
  }
  return dump;
}

using KernelFn = void (*)(int64_t, int64_t, void* const*);

// Code generation and loading; any failure leaves fns null (the reference kernels run).
void load_kernels(const Program& p, const FusionPlan& plan, bool codegen, const fs::path& dump,
                  std::vector<KernelFn>& fns, std::vector<cpu::KernelInfo>& info,
                  std::shared_ptr<cpu::SharedObject>& object, CompileStats& st) {
  fns.assign(plan.kernels.size(), nullptr);
  cpu::JitTarget target = cpu::detect_target();
  st.target = target.name;
  if (plan.kernels.empty() || !codegen) return;
  std::string src = cpu::generate_source(p, plan, &info);
  if (!dump.empty()) write_text(dump / "kernels.cpp", src);
  cpu::JitResult jr = cpu::jit_compile(src, target);
  st.compile_ms = jr.compile_ms;
  st.cache_hit = jr.cache_hit;
  if (!jr.object) {
    std::fprintf(stderr,
                 "fluxion compiler: warning: kernel compilation failed, running the "
                 "interpreter's kernels instead: %s\n",
                 jr.error.c_str());
    return;
  }
  bool all = true;
  for (size_t k = 0; k < plan.kernels.size(); ++k) {
    fns[k] = reinterpret_cast<KernelFn>(jr.object->symbol(info[k].symbol));
    all &= fns[k] != nullptr;
  }
  if (!all) {
    std::fprintf(stderr,
                 "fluxion compiler: warning: %s lacks kernel symbols; running the "
                 "interpreter's kernels instead\n",
                 jr.path.c_str());
    fns.assign(plan.kernels.size(), nullptr);
    return;
  }
  object = jr.object;
  st.codegen_ok = true;
}

// The memory plan's values: what the executor writes itself, i.e. generated kernels'
// outputs and matmul, convolution and scan results (their kernels write into a given
// buffer). Outputs are not planned: the caller keeps them, in fresh tensors or, donated, in
// the buffers of the inputs they replace. The layout assignment's shared copies join as
// values N + v, from their first to their last read (a copy is as large as its
// activation, give or take channel padding).
std::vector<Lifetime> planned_lifetimes(const Program& p, const FusionPlan& plan,
                                        const Liveness& live, const ConvLayoutPlan& layouts,
                                        const std::vector<char>& generated) {
  int N = p.size(), S = (int)plan.schedule.size();
  std::vector<Lifetime> lifetimes;
  for (int s = 0; s < S; ++s) {
    const Step& stp = plan.schedule[s];
    if (stp.absorbed) continue;
    std::vector<int> written;
    if (stp.node >= 0 && writes_into_buffer(p.node(stp.node).op))
      written.push_back(written_by(plan, stp));
    if (stp.kernel >= 0 && generated[stp.kernel]) written = plan.kernels[stp.kernel].outputs;
    for (int id : written)
      if (live.last[id] != kLiveToTheEnd && live.last[id] >= 0) {
        const Node& n = p.node(id);
        lifetimes.push_back({id, (size_t)numel(n.shape) * dtype_size(n.dtype), s, live.last[id]});
      }
  }
  for (int v = 0; v < N; ++v)
    if (layouts.first_read[v] >= 0)
      lifetimes.push_back({N + v, cpu::conv_copy_bytes(p.node(v).shape, p.node(v).dtype),
                           layouts.first_read[v], layouts.last_read[v]});
  return lifetimes;
}

}  // namespace

std::string CompileStats::summary() const {
  std::string s = fmt::format(
      "fluxion compiler: graph {:016x}: {} -> {} nodes; {} fused kernels ({} nodes), {} library "
      "calls; ",
      graph_hash, nodes_in, nodes_out, kernels, fused_nodes, library_calls);
  if (kernels == 0)
    s += "no code generated";
  else if (!codegen_ok)
    s += "kernels NOT compiled (reference kernels used)";
  else if (cache_hit)
    s += fmt::format("kernels for {} loaded from the disk cache", target);
  else
    s += fmt::format("kernels for {} compiled in {:.0f} ms", target, compile_ms);
  if (epilogues > 0) s += fmt::format("; {} matmul epilogues", epilogues);
  if (donated > 0) s += fmt::format("; {} outputs donated (in place)", donated);
  if (shared_conv_operands > 0)
    s += fmt::format("; {} conv activations shared in blocked layout by {} reads",
                     shared_conv_operands, shared_conv_reads);
  if (blocked_writes > 0)
    s += fmt::format("; {} conv inputs written blocked by their kernels{}", blocked_writes,
                     dual_writes > 0 ? fmt::format(" ({} also plain)", dual_writes) : "");
  if (blocked_reads > 0)
    s += fmt::format("; {} conv results read blocked by their kernels", blocked_reads);
  if (group_sums > 0) s += fmt::format("; {} GroupNorm sums taken by their producers", group_sums);
  s += fmt::format("; {} per run", cost_str(cost));
  s += fmt::format("; memory plan {} (without reuse {}); compile() {:.0f} ms", mb(planned_bytes),
                   mb(naive_bytes), total_ms);
  return s;
}

std::unique_ptr<Executable> compile(const Graph& graph, const std::vector<Var>& outputs,
                                    const CompileOptions& options) {
  auto t_start = std::chrono::steady_clock::now();
  FX_CHECK(!outputs.empty(), "compile: no outputs");
  auto ex = std::unique_ptr<Executable>(new Executable());
  ex->profile_ = std::getenv("FLUXION_PROFILE") != nullptr;
  ex->profile_detail_ = ex->profile_ && std::string(std::getenv("FLUXION_PROFILE")) == "2";
  CompileStats& st = ex->stats_;
  Program p(graph, outputs);
  st.graph_hash = structural_hash(p);
  st.nodes_in = live_count(p);

  fs::path dump = open_dump_dir(options.dump_dir, st.graph_hash);
  if (!dump.empty()) write_text(dump / "00-input.txt", p.dump());

  if (options.run_passes)
    st.passes =
        run_pipeline(p, default_pipeline(remat_options(options)),
                     [&](int k, const std::string& name, const Program& q) {
                       if (!dump.empty())
                         write_text(dump / fmt::format("{:02d}-after-{}.txt", k, name), q.dump());
                     });
  st.nodes_out = live_count(p);

  // Unsupported ops fail here, at compile time, naming the node.
  Backend& be = cpu_backend();
  std::vector<char> live = live_nodes(p);
  for (int i = 0; i < p.size(); ++i)
    if (live[i] && p.node(i).op != Op::input && !be.supports(p.node(i)))
      fail("compile: no kernel for {}", node_str(*p.graph, i));

  FusionPlan plan;
  if (options.fuse) {
    plan = plan_fusion(p);
  } else {
    for (int i = 0; i < p.size(); ++i)
      if (live[i]) plan.schedule.push_back({i, -1});
  }
  for (const Step& s : plan.schedule)
    if (s.kernel >= 0) {
      st.kernels++;
      st.fused_nodes += (int)plan.kernels[s.kernel].members.size();
    }
  for (const Step& s : plan.schedule)
    if (s.node >= 0 && p.node(s.node).op != Op::input && p.node(s.node).op != Op::constant)
      st.library_calls++;
  st.epilogues = (int)plan.epilogues.size();

  int N = p.size(), S = (int)plan.schedule.size();
  // Layout assignment before code generation (kernels may store blocked outputs) and
  // liveness (a convolution's read of a shared blocked copy is no read of the plain tensor).
  const bool assign = options.assign_layouts && !env_flag("FLUXION_NO_LAYOUT_ASSIGNMENT");
  LayoutOptions layout_options;
  layout_options.blocked_writes =
      assign && options.codegen && !env_flag("FLUXION_NO_BLOCKED_WRITES");
  layout_options.blocked_reads = assign && options.codegen && !env_flag("FLUXION_NO_BLOCKED_READS");
  layout_options.dual_writes = !env_flag("FLUXION_NO_DUAL_WRITES");
  ex->layouts_ = assign ? assign_conv_layouts(p, plan, layout_options) : no_shared_layouts(S, N);
  st.group_sums = fuse_group_sums(p, plan);  // needs the blocked kernels just decided
  st.cost = plan_cost(p, plan);

  load_kernels(p, plan, options.codegen, dump, ex->fns_, ex->info_, ex->object_, st);
  std::vector<char> generated(plan.kernels.size());
  for (size_t k = 0; k < generated.size(); ++k) generated[k] = ex->fns_[k] != nullptr;
  // The reference kernels (the fallback when compilation failed) write plain tensors only.
  if ((ex->layouts_.blocked_writes > 0 || ex->layouts_.blocked_reads > 0) && !st.codegen_ok)
    ex->layouts_ = assign_conv_layouts(p, plan);
  if (!dump.empty()) write_text(dump / "fusion.txt", plan.dump(p));
  st.shared_conv_operands = ex->layouts_.values;
  st.shared_conv_reads = ex->layouts_.reads;
  st.blocked_writes = ex->layouts_.blocked_writes;
  st.dual_writes = ex->layouts_.dual_writes;
  st.blocked_reads = ex->layouts_.blocked_reads;
  Liveness liveness = compute_liveness(p, plan, ex->layouts_);
  const std::vector<int>& step_of = liveness.step_of;
  ex->alias_ = liveness.alias;
  ex->free_after_ = liveness.free_after;

  ex->donate_into_ = plan_donation(p, plan, liveness, generated, options.donate);
  st.donated = (int)std::count_if(ex->donate_into_.begin(), ex->donate_into_.end(),
                                  [](int in) { return in >= 0; });
  ex->free_copies_after_.assign(S, {});
  for (int i = 0; i < N; ++i)
    if (ex->layouts_.last_read[i] >= 0)
      ex->free_copies_after_[ex->layouts_.last_read[i]].push_back(i);

  std::vector<Lifetime> lifetimes;
  if (options.plan_memory)
    lifetimes = planned_lifetimes(p, plan, liveness, ex->layouts_, generated);
  ex->mem_ = plan_buffers(lifetimes, 2 * N);
  st.planned_bytes = ex->mem_.planned_bytes;
  st.naive_bytes = ex->mem_.naive_bytes;
  if (!dump.empty()) {
    write_text(dump / "memory_plan.txt", ex->mem_.dump());
    write_text(dump / "layouts.txt", ex->layouts_.dump(p));
  }

  for (int i = 0; i < N; ++i)
    if (step_of[i] >= 0 && p.node(i).op == Op::input) ex->required_.push_back(p.node(i).attrs.name);
  ex->prog_ = std::move(p);
  ex->plan_ = std::move(plan);
  st.total_ms = ms_since(t_start);
  if (!dump.empty()) {
    std::string passes;
    for (const PassStat& ps : st.passes)
      passes += fmt::format("{}: {} nodes, {:.2f} ms\n", ps.name, ps.nodes_after, ps.ms);
    write_text(dump / "summary.txt", st.summary() + "\n" + passes);
  }
  if (log_enabled() || !dump.empty()) std::fprintf(stderr, "%s\n", st.summary().c_str());
  return ex;
}

Executable::~Executable() {
  if (profile_)
    if (std::string s = profile_ms_.line("FLUXION_PROFILE (compiled): ms per run by step kind");
        !s.empty())
      std::fprintf(stderr, "%s\n", s.c_str());
}

Tensor Executable::output_buffer(int id) {
  const Node& n = prog_.node(id);
  if (mem_.planned(id)) return arena_.view_as(n.shape, n.dtype, mem_.offset_of[id]);
  return Tensor(n.shape, n.dtype);
}

void Executable::place_copy(cpu::ConvOperandCopy& copy, int v) {
  const int slot = prog_.size() + v;  // copies are planned after the values
  if (!mem_.planned(slot)) return;
  copy.buffer = static_cast<char*>(arena_.raw()) + mem_.offset_of[slot];
  copy.capacity = mem_.bytes_of[slot];
}

namespace {
struct KernelCall {
  void (*fn)(int64_t, int64_t, void* const*);
  void* const* bufs;
};
void call_kernel(int64_t lo, int64_t hi, void* ctx) {
  auto* c = static_cast<KernelCall*>(ctx);
  c->fn(lo, hi, c->bufs);
}
}  // namespace

size_t Executable::run_fused(int k, std::vector<Tensor>& values, const std::vector<char>& in_place,
                             std::vector<cpu::ConvOperandCopy>& copies) {
  const FusedKernel& fk = plan_.kernels[k];
  Backend& be = cpu_backend();
  size_t owned = 0;  // bytes of blocked copies outside the memory plan
  if (fns_[k]) {
    std::vector<void*> bufs;
    for (int in : fk.inputs) bufs.push_back(values[in].raw());
    // A convolution's input, stored in its layout: the copy's buffer.
    auto blocked_copy = [&](size_t i) {
      int v = fk.blocked_view[i];  // the output, or its reshape that the convolutions read
      cpu::ConvOperandCopy& c = copies[v];
      place_copy(c, v);
      void* data = c.prepare_blocked(prog_.node(v).shape, fk.block_of(i), prog_.node(v).dtype);
      owned += c.owned_bytes();
      return data;
    };
    for (size_t i = 0; i < fk.outputs.size(); ++i) {
      int o = fk.outputs[i];
      if (fk.block_of(i) && !fk.keeps_plain(i)) {
        bufs.push_back(blocked_copy(i));
        continue;
      }
      values[o] = in_place[o] ? values[donate_into_[o]] : output_buffer(o);
      bufs.push_back(values[o].raw());
    }
    for (size_t i = 0; i < fk.outputs.size(); ++i)  // the copies of outputs also stored plain
      if (fk.keeps_plain(i)) bufs.push_back(blocked_copy(i));
    if (info_[k].range > 0 && numel(fk.domain) > 0) {
      KernelCall call{fns_[k], bufs.data()};
      cpu::parallel_for(info_[k].range, info_[k].grain, call_kernel, &call);
    } else {
      for (int o : fk.outputs)  // empty domain: column sums of no rows are zeros
        if (values[o].nbytes()) std::memset(values[o].raw(), 0, values[o].nbytes());
    }
    return owned;
  }
  // Reference kernels, member by member (the codegen fallback).
  std::map<int, Tensor> temp;
  std::vector<Tensor> args;
  for (int m : fk.members) {
    const Node& n = prog_.node(m);
    args.clear();
    for (int in : n.inputs) {
      auto it = temp.find(in);
      args.push_back(it != temp.end() ? it->second : values[in]);
    }
    temp[m] = be.execute(n, args);
  }
  for (const FusedKernel::GroupSum& g : fk.group_sums) {  // the library's sum of the view
    const Node& view = prog_.node(prog_.node(g.sum).inputs[0]);
    const Tensor rows = temp.at(g.of).reshaped(view.shape);
    temp[g.sum] = be.execute(prog_.node(g.sum), std::span<const Tensor>(&rows, 1));
    if (g.squares < 0) continue;  // and the variance's sum, node by node as its kernel would
    const Node& total = prog_.node(g.squares);
    const Node& square = prog_.node(total.inputs[0]);
    const Node& dev = prog_.node(square.inputs[0]);
    const Node& mean = prog_.node(dev.inputs[1]);  // div(sum, a scalar constant)
    const std::vector<Tensor> div_args{temp[g.sum], prog_.node(mean.inputs[1]).attrs.literal};
    const std::vector<Tensor> dev_args{rows, be.execute(mean, div_args)};
    const Tensor d = be.execute(dev, dev_args);
    const Tensor sq = be.execute(square, std::vector<Tensor>{d, d});
    temp[g.squares] = be.execute(total, std::span<const Tensor>(&sq, 1));
  }
  for (int o : fk.outputs) values[o] = temp[o];
  return owned;
}

std::vector<Tensor> Executable::run(const Feeds& feeds) {
  std::lock_guard<std::mutex> lock(run_mu_);
  if (!arena_.defined() && mem_.planned_bytes > 0)
    arena_ = Tensor(Shape{(int64_t)mem_.planned_bytes}, DType::boolean);
  int N = prog_.size();
  std::vector<Tensor> values(N);
  std::vector<char> counted(N, 0);              // fresh allocations, for peak_bytes
  std::vector<cpu::ConvOperandCopy> copies(N);  // the layout assignment's blocked copies
  std::vector<char> in_place(N, 0);             // donated inputs given up by the caller this run
  for (int o : prog_.outputs)
    if (int in = donate_into_[o]; in >= 0) {
      auto it = feeds.find(prog_.node(in).attrs.name);
      in_place[o] = it != feeds.end() && it->second.storage_use_count() == 1;
    }
  size_t live = 0;
  Backend& be = cpu_backend();
  std::vector<Tensor> args;
  auto count = [&](int id) {
    if (!mem_.planned(id) && !alias_[id] && values[id].defined()) {
      counted[id] = 1;
      live += values[id].nbytes();
    }
  };
  for (int s = 0; s < (int)plan_.schedule.size(); ++s) {
    const Step& st = plan_.schedule[s];
    if (st.absorbed) continue;  // computed by an earlier kernel
    auto t0 = profile_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    if (st.kernel >= 0) {
      live += run_fused(st.kernel, values, in_place, copies);
      for (int o : plan_.kernels[st.kernel].outputs)
        if (!in_place[o]) count(o);  // a donated output lives in the caller's buffer
    } else {
      int id = st.node;
      const Node& n = prog_.node(id);
      if (layouts_.skipped[s]) {
        // A reshape whose value exists only as the blocked copy its kernel wrote.
      } else if (n.op == Op::input) {
        auto it = feeds.find(n.attrs.name);
        FX_CHECK(it != feeds.end(), "missing input '{}' ({}{})", n.attrs.name, dtype_name(n.dtype),
                 shape_str(n.shape));
        const Tensor& t = it->second;
        FX_CHECK(t.shape() == n.shape && t.dtype() == n.dtype,
                 "input '{}': expected {}{}, got {}{} (a compiled executable has static shapes: "
                 "compile again for new ones)",
                 n.attrs.name, dtype_name(n.dtype), shape_str(n.shape), dtype_name(t.dtype()),
                 shape_str(t.shape()));
        values[id] = t;
      } else if (n.op == Op::constant) {
        values[id] = n.attrs.literal;
      } else {
        args.clear();
        for (int in : n.inputs) args.push_back(values[in]);
        if (is_convolution(n.op)) {
          // Through the shared blocked copies of the layout assignment, when it gave some.
          std::array<cpu::ConvOperandCopy*, 2> shared{};
          for (int k = 0; k < 2; ++k)
            if (layouts_.shared_arg[s][k]) {
              int v = n.inputs[k];
              shared[k] = &copies[v];
              if (shared[k]->filled())
                args[k] = Tensor();  // its plain tensor may be gone
              else
                place_copy(*shared[k], v);
            }
          std::array<bool, 2> was_filled{shared[0] && shared[0]->filled(),
                                         shared[1] && shared[1]->filled()};
          values[id] = output_buffer(id);
          cpu::conv_into(n, args, values[id], shared, layouts_.result_block[s]);
          if (!mem_.planned(id)) count(id);
          for (int k = 0; k < 2; ++k)  // copies outside the memory plan count as live
            if (shared[k] && !was_filled[k] && (k == 0 || shared[1] != shared[0]))
              live += shared[k]->owned_bytes();
        } else if (st.epilogue >= 0) {  // the dot and its epilogue in one call
          const MatmulEpilogue& e = plan_.epilogues[st.epilogue];
          std::vector<Tensor> addends;
          for (int a : e.addends) addends.push_back(values[a]);
          int out = e.output();
          values[out] = output_buffer(out);
          cpu::dot_into(n, args, values[out], addends);
          count(out);
        } else if (writes_into_buffer(n.op) && mem_.planned(id)) {
          values[id] = output_buffer(id);
          if (n.op == Op::dot)
            cpu::dot_into(n, args, values[id]);
          else
            cpu::linear_scan_into(n, args, values[id]);
        } else {
          values[id] = be.execute(n, args);
          count(id);
        }
      }
    }
    if (profile_) {
      std::string kind = st.kernel >= 0 ? "fused_kernels" : op_name(prog_.node(st.node).op);
      if (profile_detail_) {  // FLUXION_PROFILE=2: per kernel and per matmul shape
        if (st.kernel >= 0) kind += fmt::format("[{}]", st.kernel);
        if (st.node >= 0 && prog_.node(st.node).op == Op::dot) {
          const Node& n = prog_.node(st.node);
          kind += fmt::format(
              "{}{}{}{}", shape_str(prog_.node(n.inputs[0]).shape), n.attrs.transpose_a ? "^T" : "",
              shape_str(prog_.node(n.inputs[1]).shape), n.attrs.transpose_b ? "^T" : "");
        } else if (st.node >= 0 && !prog_.node(st.node).inputs.empty()) {
          // Other library steps by their first input's shape and their result's.
          const Node& n = prog_.node(st.node);
          kind +=
              fmt::format("{}->{}", shape_str(prog_.node(n.inputs[0]).shape), shape_str(n.shape));
        }
      }
      profile_ms_.add(kind, ms_since(t0));
    }
    peak_dynamic_ = std::max(peak_dynamic_, live);
    for (int v : free_after_[s]) {
      if (counted[v]) live -= std::min(live, values[v].nbytes());
      values[v] = Tensor();
    }
    for (int v : free_copies_after_[s]) {
      live -= std::min(live, copies[v].owned_bytes());
      copies[v].reset();
    }
  }
  if (profile_) profile_ms_.end_run();
  std::vector<Tensor> out;
  for (int o : prog_.outputs) out.push_back(values[o]);
  return out;
}

std::shared_ptr<Executable> ExecutableCache::get(const Graph& graph,
                                                 const std::vector<Var>& outputs,
                                                 const CompileOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  Program key_prog(graph, outputs);
  uint64_t h = structural_hash(key_prog) ^ (options.fuse ? 0 : 0x9e3779b97f4a7c15ull) ^
               (options.codegen ? 0 : 0x7f4a7c159e3779b9ull) ^
               (options.recompute_scans ? 0x3c6ef372fe94f82bull : 0);
  for (const auto& [o, name] : options.donate)  // donation changes where outputs live
    h = (h ^ std::hash<std::string>()(name) ^ (uint64_t)o) * 1099511628211ull;
  auto it = by_hash_.find(h);
  if (it != by_hash_.end()) {
    ++hits_;
    return it->second;
  }
  std::string names, shapes;
  for (int id : graph.input_ids()) {
    const Node& n = graph.node(id);
    names += n.attrs.name + ",";
    shapes += fmt::format("{} {}{}, ", n.attrs.name, dtype_name(n.dtype), shape_str(n.shape));
  }
  // The same graph under other options (no fusion, scan checkpointing) is another program,
  // not a recompilation.
  names += fmt::format("|fuse={} codegen={} recompute_scans={}", options.fuse, options.codegen,
                       options.recompute_scans);
  auto prev = shapes_by_names_.find(names);
  if (prev != shapes_by_names_.end()) {
    ++recompilations_;
    std::fprintf(stderr,
                 "fluxion compiler: recompiling (#%d) a graph with the same inputs but new shapes "
                 "or structure: was {%s} now {%s}\n",
                 recompilations_, prev->second.c_str(), shapes.c_str());
  }
  shapes_by_names_[names] = shapes;
  ++compilations_;
  std::shared_ptr<Executable> ex = compile(graph, outputs, options);
  by_hash_[h] = ex;
  return ex;
}

ExecutableCache& global_cache() {
  static ExecutableCache c;
  return c;
}

}  // namespace fx::compiler
