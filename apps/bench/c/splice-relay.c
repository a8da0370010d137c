/* The ceiling for any user-space relay on this host: accept, connect, then one blocking thread
 * per direction moving bytes socket -> pipe -> socket with splice(2), 1 MiB pipes. No event
 * loop, no accounting, no limits. Built by sluice-bench with cc at bench time.
 * usage: splice-relay LISTEN_PORT TARGET_PORT   (both on 127.0.0.1) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define PIPE_BYTES (1 << 20)

struct direction {
  int from, to;
};

static void *pump(void *arg) {
  struct direction *d = arg;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) goto done;
  fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES);
  for (;;) {
    ssize_t n = splice(d->from, NULL, p[1], NULL, PIPE_BYTES, SPLICE_F_MOVE);
    if (n <= 0) break;
    while (n > 0) {
      ssize_t w = splice(p[0], NULL, d->to, NULL, (size_t)n, SPLICE_F_MOVE);
      if (w <= 0) goto closed;
      n -= w;
    }
  }
closed:
  close(p[0]);
  close(p[1]);
done:
  shutdown(d->to, SHUT_WR);
  return NULL;
}

struct pair {
  int client, upstream;
};

static void *serve(void *arg) {
  struct pair *c = arg;
  struct direction in = {c->client, c->upstream}, out = {c->upstream, c->client};
  pthread_t t;
  pthread_create(&t, NULL, pump, &out);
  pump(&in);
  pthread_join(t, NULL);
  close(c->client);
  close(c->upstream);
  free(c);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s LISTEN_PORT TARGET_PORT\n", argv[0]);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sockaddr_in listen_addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  struct sockaddr_in target = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  inet_pton(AF_INET, "127.0.0.1", &listen_addr.sin_addr);
  inet_pton(AF_INET, "127.0.0.1", &target.sin_addr);
  int one = 1;
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(ls, (struct sockaddr *)&listen_addr, sizeof listen_addr) != 0 || listen(ls, 4096) != 0) {
    perror("listen");
    return 1;
  }
  printf("listening\n");
  fflush(stdout);
  for (;;) {
    int client = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) continue;
    int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(upstream, (struct sockaddr *)&target, sizeof target) != 0) {
      close(client);
      close(upstream);
      continue;
    }
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(upstream, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct pair *c = malloc(sizeof *c);
    c->client = client;
    c->upstream = upstream;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_create(&t, &attr, serve, c);
  }
}
