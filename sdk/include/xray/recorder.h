// libxray's public API in one include: Client (client.h), Execution and Step
// (execution.h) and the Json value (json.h).
//
//   #include <xray/recorder.h>
//
//   xray::Client client({.socket_path = "/run/xray/xrayd.sock",
//                        .app = "shopping-assistant",
//                        .spool_dir = "/var/spool/xray"});
//   xray::Execution run = client.start_execution("competitor-selection",
//                                                {{"productId", "B0C1234"}});
//   {
//     xray::Step keywords = run.step("generate_keywords");
//     keywords.input({{"title", "Adjustable laptop stand"}})
//         .output({{"keywords", {"laptop stand", "desk riser"}}});
//   }
//   run.complete({{"selected", "B0C9876"}});
//
// See each header for the contracts; DESIGN.md §2-§4 for where the data goes.
#pragma once

#include "xray/client.h"     // IWYU pragma: export
#include "xray/execution.h"  // IWYU pragma: export
#include "xray/json.h"       // IWYU pragma: export
