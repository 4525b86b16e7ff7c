# The installable library, made of the same per-layer archives as the CLI:
#   libdumpscope.so.0       everything (write_dump, Dump, CrashHandler, the C API)
#   libdumpscope_read.so.0  the read half alone (Dump: no ptrace, nothing of live/)
#   libdumpscope.a          everything, one archive (its dependencies in dumpscope.pc)
#   libexec/dumpscope/dumpscope-handler  the helper the library starts
# Only the public API is exported (api/exports.map). Laid out in the build tree as installed
# (lib/, libexec/dumpscope/), so the library finds its helper the same way in both.
set(DUMPSCOPE_LIB_DIR ${CMAKE_BINARY_DIR}/lib)
set(DUMPSCOPE_HELPER_DIR ${CMAKE_BINARY_DIR}/libexec/dumpscope)

file(WRITE ${CMAKE_BINARY_DIR}/generated/empty.cpp "// the library's code is in its archives\n")
function(dumpscope_shared name)
  add_library(${name} SHARED ${CMAKE_BINARY_DIR}/generated/empty.cpp)
  set_target_properties(${name} PROPERTIES
    LINKER_LANGUAGE CXX
    VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
    LIBRARY_OUTPUT_DIRECTORY ${DUMPSCOPE_LIB_DIR}
    LINK_DEPENDS ${CMAKE_SOURCE_DIR}/src/api/exports.map)
  target_link_options(${name} PRIVATE -Wl,--version-script=${CMAKE_SOURCE_DIR}/src/api/exports.map
                      -Wl,--no-undefined)
  # Every object of the API archives (whole archive), then the layers they need as usual.
  set(whole "")
  foreach(lib ${ARGN})
    list(APPEND whole $<TARGET_FILE:${lib}>)
  endforeach()
  list(GET ARGN 0 top)
  target_link_libraries(${name} PRIVATE -Wl,--whole-archive ${whole} -Wl,--no-whole-archive ${top})
  add_dependencies(${name} ${ARGN})
  target_include_directories(${name} INTERFACE ${CMAKE_SOURCE_DIR}/include)
endfunction()
dumpscope_shared(dumpscope_shared ds_api ds_api_read)
set_target_properties(dumpscope_shared PROPERTIES OUTPUT_NAME dumpscope)
dumpscope_shared(dumpscope_read ds_api_read)

add_executable(dumpscope-handler ${CMAKE_SOURCE_DIR}/src/handler/handler_main.cpp)
target_compile_options(dumpscope-handler PRIVATE ${DUMPSCOPE_WARNINGS})
target_link_libraries(dumpscope-handler PRIVATE ds_api)
set_target_properties(dumpscope-handler PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${DUMPSCOPE_HELPER_DIR})

# libdumpscope.a: every archive ds_api links, merged (ar's MRI script).
set(dumpscope_archives ds_api ds_api_read ds_monitor ds_capture ds_live ds_plan ds_analysis
    ds_readers ds_minidump ds_elfcore ds_output ds_elf ds_procfs ds_arch ds_snapshot ds_compress
    ds_common)
set(mri "create ${DUMPSCOPE_LIB_DIR}/libdumpscope.a\n")
foreach(a ${dumpscope_archives})
  string(APPEND mri "addlib $<TARGET_FILE:${a}>\n")
endforeach()
string(APPEND mri "save\nend\n")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/libdumpscope.mri CONTENT "${mri}")
add_custom_command(OUTPUT ${DUMPSCOPE_LIB_DIR}/libdumpscope.a
  COMMAND ${CMAKE_COMMAND} -E make_directory ${DUMPSCOPE_LIB_DIR}
  COMMAND ${CMAKE_COMMAND} -E rm -f ${DUMPSCOPE_LIB_DIR}/libdumpscope.a
  COMMAND ${CMAKE_AR} -M < ${CMAKE_BINARY_DIR}/libdumpscope.mri
  DEPENDS ${dumpscope_archives} ${CMAKE_BINARY_DIR}/libdumpscope.mri
  COMMENT "Merging the layers into libdumpscope.a" VERBATIM)
add_custom_target(dumpscope_static ALL DEPENDS ${DUMPSCOPE_LIB_DIR}/libdumpscope.a)

# What a static link needs besides libdumpscope.a (dumpscope.pc's Libs.private, the config's
# dumpscope::static).
set(DUMPSCOPE_PRIVATE_LIBS "-ldw -lelf -lzstd -lz -lfmt -lstdc++ -lm -lpthread -ldl")

configure_file(${CMAKE_SOURCE_DIR}/cmake/dumpscope.pc.in ${CMAKE_BINARY_DIR}/dumpscope.pc @ONLY)
configure_file(${CMAKE_SOURCE_DIR}/cmake/dumpscopeConfig.cmake.in
               ${CMAKE_BINARY_DIR}/dumpscopeConfig.cmake @ONLY)
include(CMakePackageConfigHelpers)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/dumpscopeConfigVersion.cmake
                                 COMPATIBILITY SameMajorVersion)

# Fixed relative layout (lib/, not lib/<multiarch>/): the package is relocatable because the
# config, the .pc file and the library find everything relative to themselves.
install(FILES ${CMAKE_SOURCE_DIR}/include/dumpscope/dumpscope.h
              ${CMAKE_SOURCE_DIR}/include/dumpscope/dumpscope.hpp DESTINATION include/dumpscope)
install(TARGETS dumpscope_shared dumpscope_read LIBRARY DESTINATION lib)
install(FILES ${DUMPSCOPE_LIB_DIR}/libdumpscope.a DESTINATION lib)
install(TARGETS dumpscope-handler RUNTIME DESTINATION libexec/dumpscope)
install(TARGETS dumpscope RUNTIME DESTINATION bin)
install(FILES ${CMAKE_BINARY_DIR}/dumpscope.pc DESTINATION lib/pkgconfig)
install(FILES ${CMAKE_BINARY_DIR}/dumpscopeConfig.cmake
              ${CMAKE_BINARY_DIR}/dumpscopeConfigVersion.cmake DESTINATION lib/cmake/dumpscope)

# The examples, built against the library in the build tree (tests/library/ builds them again
# against the installed package).
file(GLOB example_sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/examples/*.c
     ${CMAKE_SOURCE_DIR}/examples/*.cpp)
foreach(src ${example_sources})
  get_filename_component(name ${src} NAME_WE)
  add_executable(example_${name} ${src})
  target_compile_options(example_${name} PRIVATE -O1 -g -fno-omit-frame-pointer
                         $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Wshadow -Wpedantic>
                         $<$<COMPILE_LANGUAGE:CXX>:${DUMPSCOPE_WARNINGS}>
                         $<$<BOOL:${DUMPSCOPE_WERROR}>:-Werror>)
  if(name STREQUAL "read_dump")
    target_link_libraries(example_${name} PRIVATE dumpscope_read)  # the read half only
  else()
    target_link_libraries(example_${name} PRIVATE dumpscope_shared Threads::Threads)
  endif()
  set_target_properties(example_${name} PROPERTIES OUTPUT_NAME ${name}
                        RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/examples)
  add_dependencies(example_${name} dumpscope-handler)
endforeach()
