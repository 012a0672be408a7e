// CommitNotice: what a writer tells listeners about each committed batch,
// through PostgreSQL's NOTIFY, and how the live feed reads it back.
//
// Each batch's transaction ends, in the writer's pipelined round trip just
// before COMMIT, with pg_notify(kCommitChannel, payload) for the executions
// that won the batch's upsert (xray_stage_winners), so the notices are
// delivered exactly when — and only if — the batch commits, to every
// session LISTENing on the channel (this xrayd's live feed or another's).
// Payload: a JSON array of [app, id] pairs, e.g. [["shop", "e1"], ["shop",
// "e2"]]. NOTIFY payloads must stay under 8000 bytes, so a batch's winners
// are split over as many notices as needed (kCommitNoticeChunkBytes of pairs
// each; one pair is at most about 2.4 kB, since app and id are at most
// kMaxIdentifierBytes each).
//
// Pure: any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace xrayd {

inline constexpr const char* kCommitChannel = "xray_executions";
inline constexpr std::size_t kCommitNoticeChunkBytes = 3900;

// The statement a writer runs before COMMIT (one per batch; no parameters).
const std::string& commit_notice_sql();

// The (app, id) pairs of one payload; empty when it is not one (a NOTIFY sent
// to the channel by something else is ignored).
std::vector<std::pair<std::string, std::string>> parse_commit_notice(std::string_view payload);

}  // namespace xrayd
