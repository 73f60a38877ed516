/* Socket address builders shared by the dual-stack conformance programs. */
#ifndef CONFORMANCE_INET_ADDR_H
#define CONFORMANCE_INET_ADDR_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static inline struct sockaddr_in6 addr6(const char *s, int port) {
  struct sockaddr_in6 a;
  memset(&a, 0, sizeof a);
  a.sin6_family = AF_INET6;
  a.sin6_port = htons(port);
  inet_pton(AF_INET6, s, &a.sin6_addr);
  return a;
}

static inline struct sockaddr_in addr4(const char *s, int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, s, &a.sin_addr);
  return a;
}
#endif
