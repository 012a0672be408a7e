#include "xray/wire.h"

#include <gtest/gtest.h>

namespace xray::wire {
namespace {

const unsigned char* bytes(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

TEST(Wire, SnapshotFrameRoundTrips) {
  std::string frame = encode_snapshot_frame(0x0102030405060708ULL, R"({"id":"x"})");
  ASSERT_EQ(frame.size(), kHeaderBytes + 10);
  auto decoded = decode_header(bytes(frame));
  ASSERT_FALSE(decoded.error);
  EXPECT_EQ(decoded.header.type, FrameType::kSnapshot);
  EXPECT_EQ(decoded.header.payload_bytes, 10u);
  EXPECT_EQ(decoded.header.sequence, 0x0102030405060708ULL);
  EXPECT_EQ(frame.substr(kHeaderBytes), R"({"id":"x"})");
}

TEST(Wire, HeaderIsLittleEndianAsDocumented) {
  // docs/protocol.md: u32 length, u8 version, u8 type, u16 reserved, u64 sequence.
  std::string frame = encode_snapshot_frame(258, "abc");
  const std::string expected("\x03\x00\x00\x00\x01\x01\x00\x00\x02\x01\x00\x00\x00\x00\x00\x00",
                             16);
  EXPECT_EQ(frame.substr(0, 16), expected);
}

TEST(Wire, AckCarriesStatusAndMessage) {
  std::string frame = encode_ack_frame(7, AckStatus::kInvalid, "steps[0].name: missing");
  auto decoded = decode_header(bytes(frame));
  ASSERT_FALSE(decoded.error);
  EXPECT_EQ(decoded.header.type, FrameType::kAck);
  EXPECT_EQ(decoded.header.sequence, 7u);
  auto ack = decode_ack_payload(std::string_view(frame).substr(kHeaderBytes));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->status, AckStatus::kInvalid);
  EXPECT_EQ(ack->message, "steps[0].name: missing");
}

TEST(Wire, RejectsBadVersionTypeAndReserved) {
  std::string frame = encode_snapshot_frame(1, "x");
  std::string bad_version = frame;
  bad_version[4] = 2;
  EXPECT_EQ(decode_header(bytes(bad_version)).error, HeaderError::kBadVersion);
  std::string bad_type = frame;
  bad_type[5] = 9;
  EXPECT_EQ(decode_header(bytes(bad_type)).error, HeaderError::kBadType);
  std::string bad_reserved = frame;
  bad_reserved[7] = 1;
  EXPECT_EQ(decode_header(bytes(bad_reserved)).error, HeaderError::kBadReserved);
  // The sequence is still readable so the error ack can name it.
  EXPECT_EQ(decode_header(bytes(bad_type)).header.sequence, 1u);
}

TEST(Wire, RejectsEmptyOrUnknownAckPayload) {
  EXPECT_FALSE(decode_ack_payload(""));
  EXPECT_FALSE(decode_ack_payload(std::string(1, '\x09')));
  auto empty_message = decode_ack_payload(std::string(1, '\x00'));
  ASSERT_TRUE(empty_message);
  EXPECT_EQ(empty_message->status, AckStatus::kCommitted);
  EXPECT_TRUE(empty_message->message.empty());
}

}  // namespace
}  // namespace xray::wire
