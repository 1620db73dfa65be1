// bench-rawecho: the physical reference of the network benchmarks (bench/net.sh). A raw TCP
// echo server: one thread, epoll, non-blocking sockets, TCP_NODELAY; every byte read is
// written back. Closes a connection when the peer has shut down its side and everything is
// written. No framing, no parsing: what a WebSocket server costs beyond this is protocol and
// library overhead.
//
//   bench-rawecho [--port P] [--host 127.0.0.1]   prints "listening on tcp://HOST:PORT"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Conn
{
    int fd = -1;
    std::vector<char> pending;  // read but not yet written back
    size_t off = 0;
    bool eof = false;
    bool wantOut = false;
};

void setOut(int ep, Conn *c, bool want)
{
    if (c->wantOut == want)
        return;
    c->wantOut = want;
    epoll_event ev{};
    ev.events = want ? EPOLLOUT : EPOLLIN;  // stop reading while the echo is not written out
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

void closeConn(int ep, Conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, nullptr);
    ::close(c->fd);
    delete c;
}

// Writes what is pending; returns false on a fatal error.
bool writePending(Conn *c)
{
    while (c->off < c->pending.size()) {
        ssize_t w = ::write(c->fd, c->pending.data() + c->off, c->pending.size() - c->off);
        if (w < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        c->off += size_t(w);
    }
    c->pending.clear();
    c->off = 0;
    return true;
}

}  // namespace

int main(int argc, char **argv)
{
    std::string host = "127.0.0.1";
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--port") == 0)
            port = std::atoi(argv[i + 1]);
        else if (std::strcmp(argv[i], "--host") == 0)
            host = argv[i + 1];
    }
    ::signal(SIGPIPE, SIG_IGN);
    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(uint16_t(port));
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
        ::bind(lfd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0 || ::listen(lfd, 4096) < 0) {
        std::perror("bench-rawecho: listen");
        return 1;
    }
    socklen_t alen = sizeof addr;
    getsockname(lfd, reinterpret_cast<sockaddr *>(&addr), &alen);
    std::printf("listening on tcp://%s:%d\n", host.c_str(), ntohs(addr.sin_port));
    std::fflush(stdout);

    const int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event lev{};
    lev.events = EPOLLIN;
    lev.data.ptr = nullptr;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    std::vector<char> buf(256 * 1024);
    epoll_event evs[256];
    for (;;) {
        const int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; ++i) {
            if (evs[i].data.ptr == nullptr) {
                for (;;) {
                    const int fd = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0)
                        break;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    auto *c = new Conn;
                    c->fd = fd;
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.ptr = c;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            auto *c = static_cast<Conn *>(evs[i].data.ptr);
            if (c->wantOut) {
                if (!writePending(c)) {
                    closeConn(ep, c);
                    continue;
                }
                if (!c->pending.empty())
                    continue;
                if (c->eof) {
                    closeConn(ep, c);
                    continue;
                }
                setOut(ep, c, false);
                continue;
            }
            bool dead = false;
            for (int round = 0; round < 4 && !dead; ++round) {
                const ssize_t r = ::read(c->fd, buf.data(), buf.size());
                if (r < 0) {
                    dead = !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
                    break;
                }
                if (r == 0) {
                    c->eof = true;
                    break;
                }
                // Echo straight from the read buffer; keep only what the socket did not take.
                ssize_t w = ::write(c->fd, buf.data(), size_t(r));
                if (w < 0) {
                    if (errno != EAGAIN && errno != EWOULDBLOCK) {
                        dead = true;
                        break;
                    }
                    w = 0;
                }
                if (w < r) {
                    c->pending.assign(buf.data() + w, buf.data() + r);
                    c->off = 0;
                    setOut(ep, c, true);
                    break;
                }
                if (size_t(r) < buf.size())
                    break;
            }
            if (dead || (c->eof && c->pending.empty()))
                closeConn(ep, c);
        }
    }
}
