#include "daemon/record.h"

#include <malloc.h>

namespace xrayd {
namespace {

// What Record::on_done and the transport's callback inside it allocate: the
// closures, a shared_ptr control block and copies of app and id. Measured
// from the closures' sizes in ingest.cc and the sessions, rounded up.
constexpr std::size_t kCallbackBytes = 384;

// The heap block behind `s`, or 0 when `s` keeps its characters inline.
std::size_t heap_bytes(const std::string& s) {
  const char* self = reinterpret_cast<const char*>(&s);
  if (s.data() >= self && s.data() < self + sizeof s) return 0;
  return ::malloc_usable_size(const_cast<char*>(s.data()));
}

void trim(std::string& s) {
  if (s.capacity() > s.size() + s.size() / 4 + 32) s.shrink_to_fit();
}

}  // namespace

std::size_t Record::held_bytes() const {
  return sizeof(Record) + kCallbackBytes + 2 * (app.size() + id.size()) + heap_bytes(app) +
         heap_bytes(id) + heap_bytes(execution_row) + heap_bytes(step_rows) +
         heap_bytes(evaluation_rows);
}

void Record::trim() {
  xrayd::trim(execution_row);
  xrayd::trim(step_rows);
  xrayd::trim(evaluation_rows);
}

}  // namespace xrayd
