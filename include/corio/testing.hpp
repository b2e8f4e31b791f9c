// corio/testing.hpp — test fixtures for programs built on corio (what aiohttp's pytest plugin
// and trio.testing give their users), for any test framework: failures are exceptions.
//
//   run_test(body)        a test body on a fresh loop in virtual time, under a deadlock guard
//                         that turns a hang into deadlock_error listing the stuck tasks
//                         (testing/run_test.hpp)
//   test_server           an http::server on a free loopback port, listening when start()
//                         returns, and client(): an http::client_session bound to it
//                         (testing/test_server.hpp)
//   fault_proxy, fault    a TCP proxy that delays, drops, resets or truncates the connections
//                         through it, to test a client against a failing network
//                         (testing/fault_proxy.hpp)
//
// Each header states its guarantees, errors, cancel safety and thread-safety. Everything runs
// on the loop of the calling thread, with real sockets on 127.0.0.1. (After `using namespace
// corio;`, GoogleTest's unqualified `testing::` is ambiguous with corio::testing: write
// `::testing::`.)
#pragma once

#include "corio/testing/fault_proxy.hpp"
#include "corio/testing/run_test.hpp"
#include "corio/testing/test_server.hpp"
