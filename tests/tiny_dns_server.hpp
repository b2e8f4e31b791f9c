// tiny_dns_server: a real DNS server on loopback UDP for tests (a thread answering queries).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <corio/net/resolve.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace corio_test {

/// A DNS server on 127.0.0.1 speaking just enough of RFC 1035 for one-question queries:
///   <name>.corio.test  -> A 127.0.0.<n> where <name> is "host<n>"; no AAAA records
///   slow<name>.corio.test -> as <name>, answered 400 ms late
///   silent.corio.test  -> never answered
///   anything else      -> NXDOMAIN
class tiny_dns_server {
public:
    tiny_dns_server() {
        fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        socklen_t len = sizeof addr;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        const timeval poll_interval{0, 50'000};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &poll_interval, sizeof poll_interval);
        thread_ = std::thread([this] { serve(); });
    }
    ~tiny_dns_server() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
    }
    std::string servers() const { return "127.0.0.1:" + std::to_string(port_); }
    /// Points this thread's lookups at the server while the returned guard lives.
    struct use_guard {
        std::string previous;
        ~use_guard() { corio::net::set_dns_servers(previous); }
    };
    use_guard use() const { return {corio::net::set_dns_servers(servers())}; }
    int queries() const { return queries_; }

private:
    void serve() {
        unsigned char q[512];
        while (!stop_) {
            sockaddr_in from{};
            socklen_t len = sizeof from;
            const ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &len);
            if (n < 12) continue;
            ++queries_;
            std::string name;
            std::size_t i = 12;
            while (i < static_cast<std::size_t>(n) && q[i] != 0) {
                if (!name.empty()) name += '.';
                name.append(reinterpret_cast<const char*>(q + i + 1), q[i]);
                i += q[i] + 1;
            }
            const std::size_t question_end = i + 5;  // zero label + QTYPE + QCLASS
            if (question_end > static_cast<std::size_t>(n) || name == "silent.corio.test") continue;
            const int qtype = (q[i + 1] << 8) | q[i + 2];
            if (name.rfind("slow", 0) == 0) {  // "slowhostN.corio.test": hostN, 400 ms late
                std::this_thread::sleep_for(std::chrono::milliseconds(400));
                name.erase(0, 4);
            }
            const bool known = name.rfind("host", 0) == 0 && name.ends_with(".corio.test");
            std::vector<unsigned char> r(q, q + question_end);
            r[2] = 0x81;                          // response, recursion desired
            r[3] = known ? 0x80 : 0x83;           // recursion available; NOERROR or NXDOMAIN
            r[6] = 0, r[7] = (known && qtype == 1) ? 1 : 0;  // one answer for A queries
            r[8] = r[9] = r[10] = r[11] = 0;
            if (known && qtype == 1) {
                const unsigned char host_number = static_cast<unsigned char>(std::stoi(name.substr(4)));
                const unsigned char answer[] = {0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, host_number};
                r.insert(r.end(), std::begin(answer), std::end(answer));
            }
            ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
    }

    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<int> queries_{0};
    std::thread thread_;
};

}  // namespace corio_test
