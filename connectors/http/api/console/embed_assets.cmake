# Writes a C++ header holding every console asset as a byte array, so the
# mozaiek binary serves the console without any file beside it.
#   cmake -DINPUT_DIR=<connectors/http/api/console> -DOUTPUT=<header> -P embed_assets.cmake
# The asset patterns are the same as in CMakeLists.txt (MOZAIEK_CONSOLE_ASSETS).
file(GLOB assets RELATIVE ${INPUT_DIR}
     ${INPUT_DIR}/*.html ${INPUT_DIR}/*.js ${INPUT_DIR}/*.css ${INPUT_DIR}/*.svg)
list(SORT assets)
set(arrays "")
set(table "")
set(i 0)
foreach(name IN LISTS assets)
  file(READ ${INPUT_DIR}/${name} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  # A trailing NUL keeps empty files legal; it is not part of the size.
  string(APPEND arrays "inline constexpr unsigned char kAsset${i}[] = {${bytes}0x00};\n")
  string(APPEND table "    {\"${name}\", kAsset${i}, sizeof(kAsset${i}) - 1},\n")
  math(EXPR i "${i} + 1")
endforeach()
set(text "// Generated from connectors/http/api/console/ by embed_assets.cmake; do not edit.\n")
string(APPEND text "#pragma once\n#include <cstddef>\n\nnamespace mozaiek::console_files {\n\n")
string(APPEND text "${arrays}\nstruct File {\n  const char* name;\n  const unsigned char* data;\n")
string(APPEND text "  std::size_t size;\n};\n\ninline constexpr File kFiles[] = {\n${table}};\n\n")
string(APPEND text "}  // namespace mozaiek::console_files\n")
# Rewrite only on change, so an unchanged console does not rebuild the server.
if(EXISTS ${OUTPUT})
  file(READ ${OUTPUT} old)
  if(old STREQUAL text)
    return()
  endif()
endif()
file(WRITE ${OUTPUT} "${text}")
