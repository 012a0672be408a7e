// Spool: snapshots the daemon could not take, kept in append-only segment
// files in one directory until xrayd acknowledges them (docs/spool.md).
//
// Writing: append() adds a record to this process's active segment, which it
// created and holds under an exclusive flock; sync() makes the appended
// records durable. A segment is sealed (closed, which drops the lock) when it
// reaches `segment_bytes`, when this process wants to replay it, or when the
// Spool is destroyed. Segments are never appended to after sealing.
//
// Replay: next() hands out records oldest segment first. A segment is replayed
// by whoever holds its flock: this process claims a sealed segment — its own
// or one left by another process, live or crashed — by taking the lock, so
// two processes never replay the same segment, and a dead owner's lock is
// released by the kernel. Each handed-out record is later ack()ed (committed,
// or rejected as invalid: never retried) or nack()ed (handed out again later).
// Torn or corrupt records are skipped and counted (corrupt_records()).
//
// Invariants:
//   1. A segment file is removed only by the holder of its lock, after every
//      record read from it has been acked and the whole file has been read.
//   2. The holder of a lock checks that the path still names the locked inode
//      before trusting or removing it (another holder may have removed it).
//   3. A record is appended with one write; a failed write is cut off again
//      (truncate) or its segment sealed, so later records never follow a torn one
//      in a segment that is still being written.
//
// The size bound covers all segment files in the directory, as seen by the
// last directory scan plus this process's own appends and removals since; so
// processes sharing a directory can pass it together by what each wrote since
// its last scan (at most scan_interval apart, and also rescanned when full).
//
// Not thread-safe: one thread (the sender) uses a Spool. The FileLayer must
// outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "errors.h"
#include "file_layer.h"

namespace xray::sdk {

struct SpoolOptions {
  std::string dir;
  std::uint64_t max_bytes = 256ull << 20;
  std::uint64_t segment_bytes = 4ull << 20;
  bool sync = true;  // sync() calls fdatasync; false makes it a no-op
  // How often next() lists the directory looking for segments to replay when
  // it has nothing else to hand out.
  std::chrono::milliseconds scan_interval{1000};
  // Receives warnings (I/O errors, corrupt segments). Optional.
  std::function<void(std::string_view)> warn;
};

// Names one handed-out record until it is acked or nacked.
struct SpoolRecordRef {
  std::uint64_t segment = 0;  // this Spool's handle for the claimed segment
  std::uint64_t offset = 0;   // of the record header in the file
};

struct SpoolRecord {
  SpoolRecordRef ref;
  std::string payload;
};

// What a read-only scan of one segment file found (tests and tools).
struct SegmentContents {
  std::vector<std::string> payloads;
  std::uint64_t corrupt = 0;  // torn tails and corrupt records skipped
};

class Spool {
 public:
  // Creates the directory if needed and measures what is in it. Errors: the
  // directory cannot be created or listed.
  [[nodiscard]] static Result<std::unique_ptr<Spool>> open(SpoolOptions options, FileLayer& files);
  // Seals the active segment and releases claimed ones; records not yet acked
  // stay on disk for the next claimer.
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends one record. Errors: Errc::kSpoolFull when it would pass max_bytes
  // (nothing written); a system error when the disk refused (nothing kept).
  [[nodiscard]] Result<void> append(std::string_view payload);
  // Makes every appended record durable. On error the active segment is sealed.
  [[nodiscard]] Result<void> sync();

  // The oldest record not yet handed out (or nacked since), claiming and
  // reading segments as needed; nullopt when there is none right now.
  std::optional<SpoolRecord> next();
  // The record was committed, or rejected for good: never hand it out again.
  // A fully acked segment is removed.
  void ack(const SpoolRecordRef& ref);
  // The record was not committed: hand it out again, before newer ones.
  void nack(const SpoolRecordRef& ref);
  // Makes the next call of next() list the directory even if scan_interval has
  // not passed (e.g. when the daemon became reachable).
  void request_scan() { next_scan_ = {}; }

  // Bytes of segment files in the directory, as last known (see above).
  std::uint64_t total_bytes() const { return total_bytes_; }
  // Torn or corrupt records skipped so far.
  std::uint64_t corrupt_records() const { return corrupt_records_; }
  // Records handed out and neither acked nor nacked.
  std::size_t in_flight() const;
  const std::string& active_segment_path_for_test() const { return active_.path; }

 private:
  struct Active {
    int fd = -1;
    std::string path;
    std::uint64_t size = 0;
    std::uint64_t records = 0;
    bool unsynced = false;
  };
  struct Claimed {
    std::uint64_t handle = 0;
    int fd = -1;
    std::string path;
    std::uint64_t size = 0;         // file size when claimed; sealed files do not grow
    std::uint64_t read_offset = 0;  // next unread byte; == size when all read
    std::set<std::uint64_t> in_flight;
    std::set<std::uint64_t> retry;
    bool abandoned = false;  // a read failed: release without removing
  };

  Spool(SpoolOptions options, FileLayer& files);

  Result<void> create_segment();
  void seal_active();
  Result<void> rescan();
  bool claim_oldest();
  std::optional<SpoolRecord> next_from(Claimed& c);
  Claimed* find(std::uint64_t handle);
  void finish_if_done(std::uint64_t handle);
  void warn(const std::string& message);

  SpoolOptions options_;
  FileLayer& files_;
  Active active_;
  std::deque<Claimed> claimed_;  // oldest first
  std::uint64_t next_handle_ = 1;
  std::uint64_t segments_created_ = 0;
  std::uint64_t total_bytes_ = 0;
  std::uint64_t corrupt_records_ = 0;
  std::vector<std::string> scan_names_;  // sorted segment names from the last scan
  std::chrono::steady_clock::time_point next_scan_{};
  std::chrono::steady_clock::time_point last_scan_{};
};

// Reads every record of the segment file at `path` without locking or
// changing it (for tests and tools). Errors: the file cannot be opened or read.
[[nodiscard]] Result<SegmentContents> read_segment(FileLayer& files, const std::string& path);

}  // namespace xray::sdk
