# cmake -DCLANG_FORMAT=<path> -DGIT=<path> -DSOURCE_DIR=<repo> -P check_format.cmake
cmake_policy(VERSION 3.25)
# Fails when clang-format is missing or would change any of the files.
set(folders stream operators connectors tests bench)

if(NOT CLANG_FORMAT OR NOT EXISTS "${CLANG_FORMAT}")
  message(FATAL_ERROR "clang-format not found: install it (apt-get install clang-format; "
                      "build.sh does) and configure again")
endif()
execute_process(COMMAND ${CLANG_FORMAT} --version OUTPUT_VARIABLE version
                OUTPUT_STRIP_TRAILING_WHITESPACE)
message(STATUS "${version}")

# The tracked files when this is a git checkout, otherwise every file on disk.
set(files "")
if(GIT AND EXISTS "${SOURCE_DIR}/.git")
  set(patterns "")
  foreach(folder IN LISTS folders)
    list(APPEND patterns "${folder}/*.h" "${folder}/*.cc")
  endforeach()
  execute_process(COMMAND ${GIT} ls-files -- ${patterns}
                  WORKING_DIRECTORY ${SOURCE_DIR} OUTPUT_VARIABLE listed RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "git ls-files failed in ${SOURCE_DIR}")
  endif()
  string(REPLACE "\n" ";" files "${listed}")
  list(FILTER files EXCLUDE REGEX "^$")
else()
  foreach(folder IN LISTS folders)
    file(GLOB_RECURSE found RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/${folder}/*.h
         ${SOURCE_DIR}/${folder}/*.cc)
    list(APPEND files ${found})
  endforeach()
endif()
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "no .h/.cc files found under ${folders} in ${SOURCE_DIR}")
endif()

execute_process(COMMAND ${CLANG_FORMAT} --style=file --dry-run -Werror ${files}
                WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE rc ERROR_VARIABLE findings)
if(NOT rc EQUAL 0)
  # One line per file: clang-format reports every differing line, which for an
  # unformatted tree is thousands.
  string(REGEX MATCHALL "[^\n]+: error: code should be clang-formatted" lines "${findings}")
  set(bad "")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE ":[0-9]+:[0-9]+: error: code should be clang-formatted" "" file "${line}")
    list(APPEND bad ${file})
  endforeach()
  list(REMOVE_DUPLICATES bad)
  list(LENGTH bad bad_count)
  if(bad_count EQUAL 0)
    message(FATAL_ERROR "clang-format failed:\n${findings}")
  endif()
  list(JOIN bad "\n  " bad_list)
  message(FATAL_ERROR "${bad_count} of ${count} files are not clang-formatted:\n  ${bad_list}\n"
                      "See the diff with: clang-format --style=file <file> | diff <file> -")
endif()
message(STATUS "${count} files clang-formatted")
