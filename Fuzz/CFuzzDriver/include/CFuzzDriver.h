// libFuzzer's driver entry point (from libclang_rt.fuzzer_no_main, linked into fuzz targets by
// scripts/fuzz.sh only): the fuzz targets keep their own `main` and hand control to libFuzzer.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
