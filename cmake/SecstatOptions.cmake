# Every secstat build option lives here.
option(SECSTAT_TESTS "Build the test suite" ON)
option(SECSTAT_WERROR "Treat compiler warnings as errors" OFF)
option(SECSTAT_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(SECSTAT_FUZZ "Build the libFuzzer targets of fuzz/ (CC=clang; see fuzz/run.sh)" OFF)
option(SECSTAT_BENCH "Build the benchmark suite (bench/, needs gRPC C++)" OFF)
set(SECSTAT_TEST_TIMEOUT 120 CACHE STRING "Per-test timeout in seconds")
