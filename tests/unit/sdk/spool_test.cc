#include "sdk/src/spool.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "sdk/src/spool_format.h"
#include "tests/unit/sdk/fault_file_layer.h"
#include "tests/unit/sdk/temp_dir.h"

namespace xray::sdk {
namespace {

namespace fs = std::filesystem;
using testing::FaultFileLayer;
using testing::TempDir;

class SpoolTest : public ::testing::Test {
 protected:
  std::unique_ptr<Spool> open(std::uint64_t max_bytes = 1 << 20,
                              std::uint64_t segment_bytes = 1 << 20) {
    SpoolOptions o;
    o.dir = dir_.path();
    o.max_bytes = max_bytes;
    o.segment_bytes = segment_bytes;
    o.scan_interval = std::chrono::milliseconds(0);
    auto s = Spool::open(o, files_);
    EXPECT_TRUE(s) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }
  static std::string payload(int i) {
    return R"({"id":")" + std::to_string(i) + R"(","pad":")" + std::string(40, 'x') + "\"}";
  }
  static void append_n(Spool& s, int from, int count) {
    for (int i = from; i < from + count; ++i) ASSERT_TRUE(s.append(payload(i))) << i;
    ASSERT_TRUE(s.sync());
  }
  // Hands out and acks every record; returns their payloads in order.
  static std::vector<std::string> drain(Spool& s) {
    std::vector<std::string> out;
    while (auto r = s.next()) {
      out.push_back(r->payload);
      s.ack(r->ref);
    }
    return out;
  }
  static std::vector<std::string> payloads(int from, int count) {
    std::vector<std::string> out;
    for (int i = from; i < from + count; ++i) out.push_back(payload(i));
    return out;
  }
  std::vector<std::string> segment_files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_.path())) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  static void corrupt_byte(const std::string& path, std::uint64_t offset) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5A);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(&c, 1);
  }
  // Offset of record `i` (0-based) in a segment of records written by append_n.
  static std::uint64_t record_offset(int i) {
    return spool_format::kSegmentHeader.size() +
           static_cast<std::uint64_t>(i) * (spool_format::kRecordHeaderBytes + payload(0).size());
  }

  TempDir dir_;
  FaultFileLayer files_;
};

TEST_F(SpoolTest, ReadsBackWhatWasAppendedInOrder) {
  auto s = open();
  append_n(*s, 0, 5);
  EXPECT_EQ(drain(*s), payloads(0, 5));
  EXPECT_EQ(s->corrupt_records(), 0u);
}

TEST_F(SpoolTest, CreatesNoFileUntilTheFirstAppend) {
  auto s = open();
  EXPECT_TRUE(segment_files().empty());
  EXPECT_FALSE(s->next());
}

TEST_F(SpoolTest, DeletesSegmentOnlyWhenEveryRecordIsAcked) {
  auto s = open();
  append_n(*s, 0, 3);
  std::vector<SpoolRecord> out;
  while (auto r = s->next()) out.push_back(std::move(*r));
  ASSERT_EQ(out.size(), 3u);
  s->ack(out[0].ref);
  s->ack(out[2].ref);
  EXPECT_EQ(segment_files().size(), 1u);  // out[1] is not acknowledged yet
  s->ack(out[1].ref);
  EXPECT_TRUE(segment_files().empty());
  EXPECT_EQ(s->total_bytes(), 0u);
}

TEST_F(SpoolTest, HandsOutNackedRecordAgainBeforeNewerOnes) {
  auto s = open();
  append_n(*s, 0, 3);
  auto a = s->next();
  auto b = s->next();
  ASSERT_TRUE(a && b);
  s->ack(a->ref);
  s->nack(b->ref);
  EXPECT_EQ(drain(*s), payloads(1, 2));
  EXPECT_TRUE(segment_files().empty());
}

TEST_F(SpoolTest, SkipsAndCountsTornTail) {
  {
    auto s = open();
    append_n(*s, 0, 3);
  }
  auto files = segment_files();
  ASSERT_EQ(files.size(), 1u);
  fs::resize_file(files[0], record_offset(2) + 7);  // the third record is cut mid-header
  auto s = open();
  EXPECT_EQ(drain(*s), payloads(0, 2));
  EXPECT_EQ(s->corrupt_records(), 1u);
  EXPECT_TRUE(segment_files().empty());
}

TEST_F(SpoolTest, SkipsAndCountsTailCutInsidePayload) {
  {
    auto s = open();
    append_n(*s, 0, 3);
  }
  fs::resize_file(segment_files()[0], record_offset(3) - 5);
  auto s = open();
  EXPECT_EQ(drain(*s), payloads(0, 2));
  EXPECT_EQ(s->corrupt_records(), 1u);
}

TEST_F(SpoolTest, SkipsAndCountsRecordWithBadChecksumAndReadsOnePastIt) {
  {
    auto s = open();
    append_n(*s, 0, 3);
  }
  corrupt_byte(segment_files()[0], record_offset(1) + spool_format::kRecordHeaderBytes + 3);
  auto s = open();
  std::vector<std::string> expected = {payload(0), payload(2)};
  EXPECT_EQ(drain(*s), expected);
  EXPECT_EQ(s->corrupt_records(), 1u);
}

TEST_F(SpoolTest, FindsNextRecordAfterCorruptLength) {
  {
    auto s = open();
    append_n(*s, 0, 3);
  }
  corrupt_byte(segment_files()[0], record_offset(1) + 6);  // payload_bytes of record 1
  auto s = open();
  std::vector<std::string> expected = {payload(0), payload(2)};
  EXPECT_EQ(drain(*s), expected);
  EXPECT_EQ(s->corrupt_records(), 1u);
}

TEST_F(SpoolTest, SkipsSegmentWithBadHeader) {
  {
    auto s = open();
    append_n(*s, 0, 2);
  }
  corrupt_byte(segment_files()[0], 0);
  auto s = open();
  EXPECT_TRUE(drain(*s).empty());
  EXPECT_EQ(s->corrupt_records(), 1u);
}

TEST_F(SpoolTest, RemovesEmptySegmentLeftByACrashRightAfterCreate) {
  std::ofstream(dir_ / "seg-00000000000000000001-1-0.xsp").close();
  auto s = open();
  EXPECT_FALSE(s->next());
  EXPECT_TRUE(segment_files().empty());
  EXPECT_EQ(s->corrupt_records(), 0u);
}

TEST_F(SpoolTest, RefusesAppendBeyondMaxBytes) {
  const std::uint64_t record = spool_format::kRecordHeaderBytes + payload(0).size();
  const std::uint64_t max = spool_format::kSegmentHeader.size() + 3 * record;
  auto s = open(max);
  append_n(*s, 0, 3);
  auto r = s->append(payload(3));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Errc::kSpoolFull);
  EXPECT_EQ(fs::file_size(segment_files()[0]), max);
  EXPECT_LE(s->total_bytes(), max);
  // Draining frees the room again.
  EXPECT_EQ(drain(*s).size(), 3u);
  EXPECT_TRUE(s->append(payload(4)));
}

TEST_F(SpoolTest, CountsOtherProcessesSegmentsAgainstTheBound) {
  const std::uint64_t record = spool_format::kRecordHeaderBytes + payload(0).size();
  const std::uint64_t max = spool_format::kSegmentHeader.size() * 2 + 3 * record;
  auto a = open(max);
  append_n(*a, 0, 2);
  auto b = open(max);  // sees a's segment when it opens
  ASSERT_TRUE(b->append(payload(2)));
  EXPECT_FALSE(b->append(payload(3)));
}

TEST_F(SpoolTest, SealsSegmentsAtSegmentBytesAndReplaysOldestFirst) {
  const std::uint64_t record = spool_format::kRecordHeaderBytes + payload(0).size();
  auto s = open(1 << 20, spool_format::kSegmentHeader.size() + 2 * record);
  append_n(*s, 0, 7);
  EXPECT_EQ(segment_files().size(), 4u);
  EXPECT_EQ(drain(*s), payloads(0, 7));
  EXPECT_TRUE(segment_files().empty());
}

TEST_F(SpoolTest, ReplaysItsOwnActiveSegmentAndAppendsToANewOne) {
  auto s = open();
  append_n(*s, 0, 2);
  auto a = s->next();
  ASSERT_TRUE(a);
  append_n(*s, 2, 1);
  EXPECT_EQ(segment_files().size(), 2u);
  s->ack(a->ref);
  EXPECT_EQ(drain(*s), payloads(1, 2));
  EXPECT_TRUE(segment_files().empty());
}

TEST_F(SpoolTest, ReplaysSegmentsLeftByAnotherSpool) {
  {
    auto crashed = open();
    append_n(*crashed, 0, 4);
  }
  auto s = open();
  EXPECT_EQ(drain(*s), payloads(0, 4));
}

TEST_F(SpoolTest, NeverClaimsASegmentAnotherSpoolHolds) {
  auto writer = open();
  append_n(*writer, 0, 3);  // writer's active segment, under its lock
  auto other = open();
  EXPECT_FALSE(other->next());
  auto first = writer->next();  // the writer claims its own segment for replay
  ASSERT_TRUE(first);
  EXPECT_FALSE(other->next());
  writer.reset();                            // releases the claim with two records unacked
  EXPECT_EQ(drain(*other), payloads(0, 3));  // all three: the first was never acked
}

TEST_F(SpoolTest, TwoWritersSharingADirectoryLoseNothing) {
  constexpr int kEach = 400;
  auto a = open(64 << 20, 4096);
  auto b = open(64 << 20, 4096);
  std::thread ta([&] { append_n(*a, 0, kEach); });
  std::thread tb([&] { append_n(*b, kEach, kEach); });
  ta.join();
  tb.join();
  a.reset();
  b.reset();
  auto reader = open();
  auto got = drain(*reader);
  EXPECT_EQ(reader->corrupt_records(), 0u);
  std::set<std::string> unique(got.begin(), got.end());
  EXPECT_EQ(got.size(), 2u * kEach);
  EXPECT_EQ(unique.size(), 2u * kEach);
  EXPECT_TRUE(segment_files().empty());
}

TEST_F(SpoolTest, TwoReadersSharingADirectoryHandOutEachRecordOnce) {
  {
    auto w = open(64 << 20, 1024);
    append_n(*w, 0, 200);
  }
  auto a = open();
  auto b = open();
  std::vector<std::string> got_a;
  std::vector<std::string> got_b;
  std::thread ta([&] { got_a = drain(*a); });
  std::thread tb([&] { got_b = drain(*b); });
  ta.join();
  tb.join();
  std::multiset<std::string> all(got_a.begin(), got_a.end());
  all.insert(got_b.begin(), got_b.end());
  EXPECT_EQ(all.size(), 200u);
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 200u);
}

TEST_F(SpoolTest, CutsOffTornWriteSoLaterRecordsSurvive) {
  auto s = open();
  append_n(*s, 0, 2);
  files_.fail_append_at(1, 20);  // writes 20 bytes of the record, then fails
  EXPECT_FALSE(s->append(payload(99)));
  append_n(*s, 2, 2);
  EXPECT_EQ(drain(*s), payloads(0, 4));
  EXPECT_EQ(s->corrupt_records(), 0u);
}

TEST_F(SpoolTest, SealsSegmentWhenSyncFailsAndKeepsItsRecords) {
  auto s = open();
  ASSERT_TRUE(s->append(payload(0)));
  files_.fail_sync_at(1);
  EXPECT_FALSE(s->sync());
  append_n(*s, 1, 1);
  EXPECT_EQ(segment_files().size(), 2u);
  EXPECT_EQ(drain(*s), payloads(0, 2));
}

TEST_F(SpoolTest, CrashKeepsSyncedRecordsAndSkipsTheTornTail) {
  {
    auto s = open();
    append_n(*s, 0, 3);  // synced
    ASSERT_TRUE(s->append(payload(3)));
    ASSERT_TRUE(s->append(payload(4)));  // not synced
    files_.crash(30);                    // power loss in the middle of the unsynced bytes
    // The process is gone too; its lock with it.
  }
  auto s = open();
  EXPECT_EQ(drain(*s), payloads(0, 3));
  EXPECT_EQ(s->corrupt_records(), 1u);
}

TEST_F(SpoolTest, ReadSegmentSeesRecordsWithoutTouchingTheFile) {
  {
    auto s = open();
    append_n(*s, 0, 3);
  }
  auto path = segment_files()[0];
  fs::resize_file(path, fs::file_size(path) - 1);
  auto contents = read_segment(files_, path);
  ASSERT_TRUE(contents);
  EXPECT_EQ(contents->payloads, payloads(0, 2));
  EXPECT_EQ(contents->corrupt, 1u);
  EXPECT_EQ(segment_files().size(), 1u);
}

}  // namespace
}  // namespace xray::sdk
