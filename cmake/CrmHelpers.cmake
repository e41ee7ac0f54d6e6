# crm_add_unit_test(NAME SOURCES a_test.cpp ... LIBS lib ...)
# A GoogleTest executable registered with CTest; tests run from the build directory with
# CRM_SOURCE_DIR and CRM_BINARY pointing at the repository and the built server binary.
function(crm_add_unit_test name)
  if(NOT CRM_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main Threads::Threads)
  add_test(NAME ${name} COMMAND ${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "CRM_SOURCE_DIR=${PROJECT_SOURCE_DIR};CRM_BINARY=${CMAKE_BINARY_DIR}/crm-ai;CRM_BUILD_DIR=${CMAKE_BINARY_DIR}")
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()

# crm_add_fuzzer(NAME SOURCES a_fuzz.cpp ... LIBS lib ...)
# A libFuzzer target (CRM_FUZZ=ON, clang only), registered with CTest as fuzz_NAME: it runs for
# CRM_FUZZ_SECONDS from the seed corpus tests/data/fuzz/NAME (new inputs go to the build
# directory, never into the repository). By hand, longer:
#   build/sanitize/fuzz_NAME -max_total_time=600 build/sanitize/fuzz-corpus/NAME tests/data/fuzz/NAME
function(crm_add_fuzzer name)
  if(NOT CRM_FUZZ)
    return()
  endif()
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(fuzz_${name} ${F_SOURCES})
  target_link_libraries(fuzz_${name} PRIVATE ${F_LIBS})
  target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
  set_target_properties(fuzz_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
  set(corpus ${CMAKE_BINARY_DIR}/fuzz-corpus/${name})
  add_test(NAME fuzz_${name}
           COMMAND sh -c "mkdir -p '${corpus}' && exec '$<TARGET_FILE:fuzz_${name}>' -max_total_time=${CRM_FUZZ_SECONDS} -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 '${corpus}' '${PROJECT_SOURCE_DIR}/tests/data/fuzz/${name}'")
  math(EXPR fuzz_timeout "${CRM_FUZZ_SECONDS} + 120")  # longer runs by hand are not cut short
  set_tests_properties(fuzz_${name} PROPERTIES TIMEOUT ${fuzz_timeout} LABELS fuzz)
endfunction()
