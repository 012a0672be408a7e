#include "spool.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unistd.h>

#include "spool_format.h"

namespace xray::sdk {
namespace fmt = spool_format;
namespace {

// At most this many segments are claimed at once, so that a backlog of many
// small segments does not hold many descriptors and locks.
constexpr std::size_t kMaxClaimed = 16;
// When the spool looks full, the directory is listed again (others may have
// removed segments) at most this often.
constexpr auto kFullRescanInterval = std::chrono::milliseconds(100);

struct Found {
  std::uint64_t offset = 0;
  std::string payload;
};

// Reading one sealed segment (its size does not change while we hold it).
class SegmentReader {
 public:
  SegmentReader(FileLayer& files, int fd, std::uint64_t size)
      : files_(files), fd_(fd), size_(size) {}

  // The record starting exactly at `offset`, if a valid one does.
  Result<std::optional<Found>> record_at(std::uint64_t offset) {
    if (offset + fmt::kRecordHeaderBytes > size_) return std::optional<Found>{};
    char header[fmt::kRecordHeaderBytes];
    auto n = files_.read_at(fd_, header, sizeof header, offset);
    if (!n) return n.error();
    if (*n < sizeof header) return std::optional<Found>{};
    auto h = fmt::decode_record_header(header);
    if (!h) return std::optional<Found>{};
    if (offset + fmt::kRecordHeaderBytes + h->payload_bytes > size_) return std::optional<Found>{};
    Found found{offset, std::string(h->payload_bytes, '\0')};
    auto m = files_.read_at(fd_, found.payload.data(), h->payload_bytes,
                            offset + fmt::kRecordHeaderBytes);
    if (!m) return m.error();
    if (*m < h->payload_bytes || !fmt::checksum_matches(header, found.payload)) {
      return std::optional<Found>{};
    }
    return std::optional<Found>{std::move(found)};
  }

  struct Step {
    std::optional<Found> record;  // none: end of the segment
    std::uint64_t next_offset = 0;
    std::uint64_t corrupt = 0;  // bad regions skipped on the way
  };

  // The first valid record at or after `offset`. Bytes that are not a valid
  // record are skipped (one count per contiguous bad region), finding the next
  // record by its magic; a bad region that runs to the end is a torn tail.
  Result<Step> read(std::uint64_t offset) {
    Step step;
    if (offset == 0) {
      if (size_ == 0) return Step{std::nullopt, 0, 0};  // created, never written
      char header[fmt::kSegmentHeader.size()] = {};
      auto n = files_.read_at(fd_, header, sizeof header, 0);
      if (!n) return n.error();
      if (*n < sizeof header || std::string_view(header, sizeof header) != fmt::kSegmentHeader) {
        return Step{std::nullopt, size_, 1};
      }
      offset = fmt::kSegmentHeader.size();
    }
    if (offset >= size_) return Step{std::nullopt, size_, 0};
    auto here = record_at(offset);
    if (!here) return here.error();
    if (*here) {
      std::uint64_t next = offset + fmt::kRecordHeaderBytes + (*here)->payload.size();
      return Step{std::move(*here), next, 0};
    }
    auto later = resync(offset + 1);
    if (!later) return later.error();
    if (!*later) return Step{std::nullopt, size_, 1};
    std::uint64_t next = (*later)->offset + fmt::kRecordHeaderBytes + (*later)->payload.size();
    return Step{std::move(*later), next, 1};
  }

 private:
  // Looks for the magic from `from` on and returns the first valid record.
  Result<std::optional<Found>> resync(std::uint64_t from) {
    constexpr std::size_t kChunk = 64 << 10;
    char magic[4];
    fmt::put_u32(magic, fmt::kRecordMagic);
    const std::string_view needle(magic, 4);
    std::string buf(kChunk, '\0');
    std::uint64_t pos = from;
    while (pos + fmt::kRecordHeaderBytes <= size_) {
      auto n = files_.read_at(fd_, buf.data(), kChunk, pos);
      if (!n) return n.error();
      std::string_view chunk(buf.data(), *n);
      for (std::size_t i = chunk.find(needle); i != std::string_view::npos;
           i = chunk.find(needle, i + 1)) {
        auto r = record_at(pos + i);
        if (!r) return r.error();
        if (*r) return r;
      }
      if (*n < kChunk) break;
      pos += kChunk - 3;  // a magic may straddle two chunks
    }
    return std::optional<Found>{};
  }

  FileLayer& files_;
  int fd_;
  std::uint64_t size_;
};

std::string segment_name(std::uint64_t counter) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  // Fixed-width time first, so that sorting names sorts segments by age.
  char buf[96];
  std::snprintf(buf, sizeof buf, "seg-%020lld-%d-%llu.xsp", static_cast<long long>(ns),
                static_cast<int>(::getpid()), static_cast<unsigned long long>(counter));
  return buf;
}

}  // namespace

Spool::Spool(SpoolOptions options, FileLayer& files)
    : options_(std::move(options)), files_(files) {}

Result<std::unique_ptr<Spool>> Spool::open(SpoolOptions options, FileLayer& files) {
  if (auto r = files.create_dir(options.dir); !r) return r.error();
  std::unique_ptr<Spool> spool(new Spool(std::move(options), files));
  if (auto r = spool->rescan(); !r) return r.error();
  return spool;
}

Spool::~Spool() {
  seal_active();
  for (Claimed& c : claimed_) files_.close(c.fd);  // unacked records stay for the next claimer
}

void Spool::warn(const std::string& message) {
  if (options_.warn) options_.warn(message);
}

std::size_t Spool::in_flight() const {
  std::size_t n = 0;
  for (const Claimed& c : claimed_) n += c.in_flight.size();
  return n;
}

Result<void> Spool::rescan() {
  auto entries = files_.list(options_.dir);
  if (!entries) return entries.error();
  std::uint64_t total = 0;
  scan_names_.clear();
  for (const DirEntry& e : *entries) {
    if (!fmt::is_segment_name(e.name)) continue;
    total += e.size;
    scan_names_.push_back(e.name);
  }
  std::sort(scan_names_.begin(), scan_names_.end());
  total_bytes_ = total;
  last_scan_ = std::chrono::steady_clock::now();
  return {};
}

Result<void> Spool::create_segment() {
  for (int attempt = 0; attempt < 4; ++attempt) {
    std::string path = options_.dir + "/" + segment_name(segments_created_++);
    auto fd = files_.create_exclusive(path);
    if (!fd) {
      if (fd.error() == boost::system::errc::file_exists) continue;
      return fd.error();
    }
    // Invariant 2: between create and lock another process may have locked
    // this empty file and removed it; then the path no longer names our file.
    auto locked = files_.try_lock(*fd);
    auto by_fd = files_.stat_fd(*fd);
    auto by_path = files_.stat_path(path);
    if (!locked || !*locked || !by_fd || !by_path || !by_fd->same_file(*by_path)) {
      files_.close(*fd);
      continue;
    }
    if (auto r = files_.append(*fd, fmt::kSegmentHeader); !r) {
      (void)files_.remove(path);
      files_.close(*fd);
      return r.error();
    }
    if (options_.sync) {
      if (auto r = files_.sync_dir(options_.dir); !r) {
        warn("spool: cannot sync directory " + options_.dir + ": " + r.error().message());
      }
    }
    active_ = Active{*fd, std::move(path), fmt::kSegmentHeader.size(), 0, true};
    total_bytes_ += fmt::kSegmentHeader.size();
    return {};
  }
  return make_error_code(Errc::kRenamedAway);
}

void Spool::seal_active() {
  if (active_.fd < 0) return;
  if (active_.unsynced && options_.sync) {
    if (auto r = files_.sync(active_.fd); !r) {
      warn("spool: sync of " + active_.path + " failed: " + r.error().message());
    }
  }
  files_.close(active_.fd);  // drops the lock: the segment may now be claimed by anyone
  active_ = Active{};
  next_scan_ = {};
}

Result<void> Spool::append(std::string_view payload) {
  std::string record = fmt::encode_record(payload);
  if (active_.fd >= 0 && active_.records > 0 &&
      active_.size + record.size() > options_.segment_bytes) {
    seal_active();
  }
  auto need = [&] { return record.size() + (active_.fd < 0 ? fmt::kSegmentHeader.size() : 0); };
  if (total_bytes_ + need() > options_.max_bytes) {
    if (std::chrono::steady_clock::now() - last_scan_ >= kFullRescanInterval) {
      if (auto r = rescan(); !r) return r.error();
    }
    if (total_bytes_ + need() > options_.max_bytes) return make_error_code(Errc::kSpoolFull);
  }
  if (active_.fd < 0) {
    if (auto r = create_segment(); !r) return r.error();
  }
  if (auto r = files_.append(active_.fd, record); !r) {
    // Invariant 3: cut the torn record off, or stop writing to this segment.
    if (!files_.truncate(active_.fd, active_.size)) seal_active();
    return r.error();
  }
  active_.size += record.size();
  active_.records += 1;
  active_.unsynced = true;
  total_bytes_ += record.size();
  return {};
}

Result<void> Spool::sync() {
  if (active_.fd < 0 || !active_.unsynced || !options_.sync) return {};
  if (auto r = files_.sync(active_.fd); !r) {
    // After a failed fdatasync the kernel may have dropped the dirty pages;
    // stop appending to a segment whose state we no longer know.
    warn("spool: sync of " + active_.path + " failed: " + r.error().message());
    files_.close(active_.fd);
    active_ = Active{};
    return r.error();
  }
  active_.unsynced = false;
  return {};
}

Spool::Claimed* Spool::find(std::uint64_t handle) {
  for (Claimed& c : claimed_) {
    if (c.handle == handle) return &c;
  }
  return nullptr;
}

bool Spool::claim_oldest() {
  while (!scan_names_.empty() && claimed_.size() < kMaxClaimed) {
    std::string path = options_.dir + "/" + scan_names_.front();
    scan_names_.erase(scan_names_.begin());
    if (path == active_.path) continue;
    bool already = std::any_of(claimed_.begin(), claimed_.end(),
                               [&](const Claimed& c) { return c.path == path; });
    if (already) continue;
    auto fd = files_.open_read(path);
    if (!fd) continue;  // removed since the scan
    auto locked = files_.try_lock(*fd);
    auto by_fd = files_.stat_fd(*fd);
    auto by_path = files_.stat_path(path);
    // Invariant 2: the lock is ours and the path still names the locked file.
    if (!locked || !*locked || !by_fd || !by_path || !by_fd->same_file(*by_path)) {
      files_.close(*fd);
      continue;
    }
    Claimed c;
    c.handle = next_handle_++;
    c.fd = *fd;
    c.path = std::move(path);
    c.size = by_fd->size;
    claimed_.push_back(std::move(c));
    return true;
  }
  return false;
}

std::optional<SpoolRecord> Spool::next_from(Claimed& c) {
  SegmentReader reader(files_, c.fd, c.size);
  while (!c.retry.empty()) {
    std::uint64_t offset = *c.retry.begin();
    c.retry.erase(c.retry.begin());
    auto r = reader.record_at(offset);
    if (r && *r) {
      c.in_flight.insert(offset);
      return SpoolRecord{{c.handle, offset}, std::move((*r)->payload)};
    }
    ++corrupt_records_;  // it was valid when first read; the file changed under us
  }
  while (c.read_offset < c.size) {
    auto step = reader.read(c.read_offset);
    if (!step) {
      // A read error is not corruption: leave the file for a later attempt.
      warn("spool: cannot read " + c.path + ": " + step.error().message());
      c.retry.clear();
      c.read_offset = c.size;
      c.abandoned = true;
      return std::nullopt;
    }
    corrupt_records_ += step->corrupt;
    if (step->corrupt > 0) warn("spool: skipped a torn or corrupt record in " + c.path);
    c.read_offset = step->next_offset;
    if (step->record) {
      c.in_flight.insert(step->record->offset);
      return SpoolRecord{{c.handle, step->record->offset}, std::move(step->record->payload)};
    }
  }
  return std::nullopt;
}

void Spool::finish_if_done(std::uint64_t handle) {
  auto it = std::find_if(claimed_.begin(), claimed_.end(),
                         [&](const Claimed& c) { return c.handle == handle; });
  if (it == claimed_.end()) return;
  Claimed& c = *it;
  if (c.read_offset < c.size || !c.in_flight.empty() || !c.retry.empty()) return;
  if (c.abandoned) {
    // After a read error: release the lock without removing the file.
    files_.close(c.fd);
    claimed_.erase(it);
    return;
  }
  // Invariant 1: everything read is acked and the whole file was read.
  auto by_fd = files_.stat_fd(c.fd);
  auto by_path = files_.stat_path(c.path);
  if (by_fd && by_path && by_fd->same_file(*by_path)) {
    if (auto r = files_.remove(c.path); !r) {
      warn("spool: cannot remove " + c.path + ": " + r.error().message());
    } else {
      total_bytes_ -= std::min(total_bytes_, by_fd->size);
      if (options_.sync) (void)files_.sync_dir(options_.dir);
    }
  }
  files_.close(c.fd);
  claimed_.erase(it);
}

std::optional<SpoolRecord> Spool::next() {
  bool scanned = false;
  for (;;) {
    std::vector<std::uint64_t> handles;
    for (const Claimed& c : claimed_) handles.push_back(c.handle);
    for (std::uint64_t h : handles) {
      Claimed* c = find(h);
      if (auto record = next_from(*c)) return record;
      finish_if_done(h);
    }
    if (claim_oldest()) continue;
    auto now = std::chrono::steady_clock::now();
    // Before replaying our own active segment, look for older ones first.
    if (!scanned && (now >= next_scan_ || active_.records > 0)) {
      scanned = true;
      next_scan_ = now + options_.scan_interval;
      if (auto r = rescan(); !r) {
        warn("spool: cannot list " + options_.dir + ": " + r.error().message());
      } else if (claim_oldest()) {
        continue;
      }
    }
    if (active_.records > 0 && claimed_.size() < kMaxClaimed) {
      // Replay our own active segment: keep its descriptor and lock, so
      // nobody can claim it in between, and start a new one for appends.
      if (!sync()) return std::nullopt;  // sealed by sync(); a scan will find it
      Claimed c;
      c.handle = next_handle_++;
      c.fd = active_.fd;
      c.path = std::move(active_.path);
      c.size = active_.size;
      active_ = Active{};
      claimed_.push_back(std::move(c));
      continue;
    }
    return std::nullopt;
  }
}

void Spool::ack(const SpoolRecordRef& ref) {
  Claimed* c = find(ref.segment);
  if (c == nullptr) return;
  c->in_flight.erase(ref.offset);
  finish_if_done(ref.segment);
}

void Spool::nack(const SpoolRecordRef& ref) {
  Claimed* c = find(ref.segment);
  if (c == nullptr) return;
  if (c->in_flight.erase(ref.offset) > 0) c->retry.insert(ref.offset);
}

Result<SegmentContents> read_segment(FileLayer& files, const std::string& path) {
  auto fd = files.open_read(path);
  if (!fd) return fd.error();
  SegmentContents out;
  auto info = files.stat_fd(*fd);
  if (!info) {
    files.close(*fd);
    return info.error();
  }
  SegmentReader reader(files, *fd, info->size);
  std::uint64_t offset = 0;
  while (offset < info->size || offset == 0) {
    auto step = reader.read(offset);
    if (!step) {
      files.close(*fd);
      return step.error();
    }
    out.corrupt += step->corrupt;
    if (!step->record) break;
    out.payloads.push_back(std::move(step->record->payload));
    offset = step->next_offset;
  }
  files.close(*fd);
  return out;
}

}  // namespace xray::sdk
