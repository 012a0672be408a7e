# The packaging test (CTest `sdk_package_consumer`, label integration):
# installs the SDK component of an already built tree into a scratch prefix,
# then builds and runs tests/package/consumer against it twice — through
# find_package(xray CONFIG) and through pkg-config — and checks that the
# installed headers mention no Boost.
#
#   cmake -DBUILD_DIR=… -DSOURCE_DIR=…/consumer -DWORK_DIR=… -DCXX=… -DGENERATOR=…
#         [-DEXTRA_FLAGS="-fsanitize=…"] -P run_package_test.cmake
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR CXX GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_package_test.cmake needs -D${var}=")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "ok: ${ARGN}\n${out}")
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --component sdk --prefix ${prefix})

# No Boost in the public headers (they are the whole public interface).
file(GLOB_RECURSE headers ${prefix}/include/xray/*.h)
if(NOT headers)
  message(FATAL_ERROR "no headers installed under ${prefix}/include/xray")
endif()
foreach(h ${headers})
  file(STRINGS ${h} boost_lines REGEX "boost")
  if(boost_lines)
    message(FATAL_ERROR "${h} mentions boost: ${boost_lines}")
  endif()
endforeach()

# 1. find_package(xray CONFIG) → xray::xray
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/cmake-build -G ${GENERATOR}
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_CXX_COMPILER=${CXX}
    "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/cmake-build)
run(${WORK_DIR}/cmake-build/consumer)

# 2. pkg-config xray
find_program(PKG_CONFIG pkg-config REQUIRED)
file(GLOB pc_file ${prefix}/lib*/pkgconfig/xray.pc ${prefix}/lib/*/pkgconfig/xray.pc)
if(NOT pc_file)
  message(FATAL_ERROR "xray.pc not installed under ${prefix}")
endif()
get_filename_component(pc_dir ${pc_file} DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs xray OUTPUT_VARIABLE pc_flags
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs xray failed")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(extra UNIX_COMMAND "${EXTRA_FLAGS}")
run(${CXX} -std=c++20 ${extra} ${SOURCE_DIR}/main.cc ${pc_flags} -o ${WORK_DIR}/consumer-pc)
run(${WORK_DIR}/consumer-pc)
