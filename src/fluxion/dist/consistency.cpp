#include "fluxion/dist/consistency.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fx::dist {

using json = nlohmann::json;
namespace fs = std::filesystem;

uint64_t fnv1a(const void* data, size_t n, uint64_t h) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

namespace {

uint64_t file_hash(const fs::path& p, uint64_t h) {
  std::ifstream in(p, std::ios::binary);
  FX_CHECK(in, "{}: cannot read it to compare it across ranks", p.string());
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), (std::streamsize)buf.size());
    h = fnv1a(buf.data(), (size_t)in.gcount(), h);
  }
  return h;
}

std::string identity_of(const fs::path& p) {
  if (fs::is_regular_file(p))
    return fmt::format("{} bytes, fnv1a {:016x}", fs::file_size(p),
                       file_hash(p, 0xcbf29ce484222325ull));
  std::vector<fs::path> files;  // a folder (PNG images): its files in name order
  for (auto& e : fs::recursive_directory_iterator(p))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  uint64_t h = 0xcbf29ce484222325ull, bytes = 0;
  for (auto& f : files) {
    std::string rel = fs::relative(f, p).string();
    h = file_hash(f, fnv1a(rel.data(), rel.size(), h));
    bytes += fs::file_size(f);
  }
  return fmt::format("{} files, {} bytes, fnv1a {:016x}", files.size(), bytes, h);
}

}  // namespace

json run_identity(const json& config) {
  json id = config;
  json files = json::object();
  for (auto& [k, v] : config.items()) {
    if (!v.is_string()) continue;
    std::string s = v.get<std::string>();
    std::error_code ec;
    if (!s.empty() && fs::exists(s, ec)) files[s] = identity_of(s);
  }
  id["files"] = files;
  return id;
}

void check_same_run(Communicator& c, const json& identity) {
  std::vector<std::string> all = c.allgather(identity.dump());
  json first = json::parse(all[0]);
  for (int r = 1; r < c.size(); ++r) {
    if (all[r] == all[0]) continue;
    json other = json::parse(all[r]);
    std::vector<std::string> diffs;
    json flat0 = first.flatten(), flat1 = other.flatten();
    for (auto& [k, v] : flat0.items())
      if (!flat1.contains(k) || flat1[k] != v)
        diffs.push_back(fmt::format("{}: rank 0 {}, rank {} {}", k, v.dump(), r,
                                    flat1.contains(k) ? flat1[k].dump() : "(none)"));
    for (auto& [k, v] : flat1.items())
      if (!flat0.contains(k))
        diffs.push_back(fmt::format("{}: rank 0 (none), rank {} {}", k, r, v.dump()));
    fail_all("rank {} was started with a different configuration or data than rank 0: {}", r,
             fmt::join(diffs, "; "));
  }
}

void broadcast_tensors(Communicator& c, const std::vector<Tensor*>& tensors,
                       const std::string& what) {
  std::string bytes;
  if (c.rank() == 0)
    for (const Tensor* t : tensors) bytes.append(static_cast<const char*>(t->raw()), t->nbytes());
  c.broadcast(bytes, 0);
  size_t at = 0;
  for (Tensor* t : tensors) at += t->nbytes();
  FX_CHECK(at == bytes.size(), "{}: rank 0 sent {} bytes, rank {} expects {}", what, bytes.size(),
           c.rank(), at);
  if (c.rank() == 0) return;
  at = 0;
  for (Tensor* t : tensors) {
    Tensor fresh(t->shape(), t->dtype());  // never write into storage another tensor shares
    std::memcpy(fresh.raw(), bytes.data() + at, t->nbytes());
    at += t->nbytes();
    *t = fresh;
  }
}

uint64_t tensors_hash(const std::vector<const Tensor*>& tensors) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const Tensor* t : tensors) h = fnv1a(t->raw(), t->nbytes(), h);
  return h;
}

void check_replicas_agree(Communicator& c, uint64_t hash, int64_t step) {
  std::vector<std::string> all =
      c.allgather(std::string(reinterpret_cast<const char*>(&hash), sizeof hash));
  std::vector<std::string> differ;
  uint64_t h0;
  std::memcpy(&h0, all[0].data(), sizeof h0);
  for (int r = 1; r < c.size(); ++r) {
    uint64_t h;
    std::memcpy(&h, all[r].data(), sizeof h);
    if (h != h0) differ.push_back(fmt::format("rank {} ({:016x})", r, h));
  }
  if (!differ.empty())
    fail_all(
        "data-parallel replicas diverged at step {}: the weights and optimizer state of {} differ "
        "from rank 0's ({:016x})",
        step, fmt::join(differ, ", "), h0);
}

}  // namespace fx::dist
