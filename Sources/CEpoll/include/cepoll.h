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

#endif
