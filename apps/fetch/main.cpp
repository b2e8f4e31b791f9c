// corio-fetch: fetch many URLs concurrently (see fetch_cli.hpp, or run with --help).
#include <unistd.h>

#include <iostream>

#include "fetch_cli.hpp"

int main(int argc, char** argv) {
    return corio_fetch::run_fetch(argc, argv, std::cin, std::cout, std::cerr, ::isatty(STDERR_FILENO) == 1);
}
