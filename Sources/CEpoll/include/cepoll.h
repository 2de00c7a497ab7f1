#ifndef CEPOLL_H
#define CEPOLL_H
// epoll and accept4 for Swift on Linux. Glibc's Swift module does not export them.
// Deliberately no _GNU_SOURCE: with it glibc declares bind/connect/accept with transparent
// unions that Swift cannot call.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>

int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);
// Names threads so perf and gdb show which loop is which.
int pthread_setname_np(pthread_t thread, const char *name);

/// Asks the scheduler for a short time slice for the calling thread (EEVDF, Linux 6.6+:
/// sched_attr.sched_runtime of a SCHED_OTHER thread). A thread with a short slice gets an early
/// virtual deadline when it wakes, so it runs promptly instead of waiting out a busy thread's
/// slice. Returns 0 on success, -1 with errno where the kernel does not support it.
int cepoll_request_short_slice(unsigned long long nanoseconds);

/// ioctl(fd, FIONREAD) and ioctl(fd, TIOCOUTQ) (ioctl is variadic, which Swift cannot call):
/// bytes received and not yet read, and bytes sent and not yet acknowledged by the peer.
/// -1 on error.
int cepoll_unread_bytes(int fd);
int cepoll_unacknowledged_bytes(int fd);
#endif
