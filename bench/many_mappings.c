// Holds N one-page mappings (alternate pages made read-only so that the kernel cannot merge
// them), prints "ready", then waits: the fixture of bench/clone_mappings.sh.
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char** argv) {
    const long n = argc > 1 ? atol(argv[1]) : 20000;
    char* base = mmap(NULL, n * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) return 1;
    for (long i = 0; i < n; ++i) {
        base[i * 4096] = 1;
        if (i % 2 && mprotect(base + i * 4096, 4096, PROT_READ) != 0) return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
