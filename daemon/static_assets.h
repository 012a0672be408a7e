// StaticAssets: the dashboard's files (every file under the top-level
// dashboard/ folder of the source tree), embedded into xrayd at build time by
// cmake/embed_assets.cmake so a deployed daemon serves them without any
// other files, and the Content-Type each is served with.
//
// Pure, read-only data: any thread.
#pragma once

#include <string_view>
#include <vector>

namespace xrayd {

struct EmbeddedAsset {
  std::string_view path;   // relative to dashboard/, "/"-separated: "index.html", "js/app.js"
  std::string_view bytes;  // the file's content, byte for byte
};

// Every embedded file (generated: build/generated/assets_embedded.cc).
const std::vector<EmbeddedAsset>& embedded_assets();

// The asset at `path` ("" means "index.html"), or null.
const EmbeddedAsset* find_asset(std::string_view path);

// Content-Type by file extension ("text/javascript; charset=utf-8" for .js);
// application/octet-stream when unknown.
std::string_view content_type_for(std::string_view path);

}  // namespace xrayd
