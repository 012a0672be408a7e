# Writes OUT: a C++ file defining xrayd::embedded_assets() from the files
# FILES under the folder ROOT (the dashboard). Each file becomes a byte array,
# so any content — text or binary — is embedded as it is.
set(body "// Generated from dashboard/ by cmake/embed_assets.cmake. Do not edit.\n")
string(APPEND body "#include \"daemon/static_assets.h\"\n\nnamespace xrayd {\nnamespace {\n\n")
set(entries "")
set(index 0)
foreach(f ${FILES})
  file(RELATIVE_PATH rel ${ROOT} ${f})
  # Hidden files and folders (.gitkeep, .DS_Store) are not part of the dashboard.
  if(rel MATCHES "(^|/)\\.")
    continue()
  endif()
  file(READ ${f} hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  # Two hex digits per byte → 0x.., one trailing 0 so that an empty file is
  # still a valid array.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
  string(APPEND body "const unsigned char kAsset${index}[] = {\n${bytes}0};\n\n")
  string(APPEND entries "      {\"${rel}\", {reinterpret_cast<const char*>(kAsset${index}), ${size}}},\n")
  math(EXPR index "${index} + 1")
endforeach()
string(APPEND body "}  // namespace\n\n")
string(APPEND body "const std::vector<EmbeddedAsset>& embedded_assets() {\n")
string(APPEND body "  static const std::vector<EmbeddedAsset> kAssets = {\n${entries}  };\n")
string(APPEND body "  return kAssets;\n}\n\n}  // namespace xrayd\n")
file(WRITE ${OUT} "${body}")
