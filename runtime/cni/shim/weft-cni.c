/*
 * weft-cni: the CNI plugin that container runtimes exec.
 *
 * It holds no network logic on purpose: it relays the CNI_* environment and
 * stdin to the weft agent (RPC method "cni" on the agent's unix socket) and
 * prints the agent's answer, so the plugin can never disagree with the agent
 * about state and never needs upgrading with it. VERSION is answered here
 * because runtimes probe it when no agent may be running yet.
 *
 * Every error the shim makes itself is a CNI error object on stdout and exit
 * status 1, with a one-line reason on stderr. Only the top-level keys
 * "cniVersion", "agentSocket" and "timeoutSeconds" of the config are read;
 * judging the rest (including malformed JSON) is the agent's job.
 *
 * Protocol: model/agent-rpc.ts (CniCallParams, CniCallResult).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define STDIN_CAP ((size_t)1 << 20)
/* The agent's own line limit is far lower; this only bounds a runaway peer. */
#define ANSWER_CAP ((size_t)64 << 20)
#define DEFAULT_SOCKET "/run/weft/agent.sock"
#define DEFAULT_TIMEOUT_S 30.0
#define DEFAULT_CNI_VERSION "1.1.0"
#define SUPPORTED_VERSIONS "[\"0.4.0\",\"1.0.0\",\"1.1.0\"]"
#define NPOS SIZE_MAX

enum { CNI_IO = 5, CNI_BAD_CONFIG = 7, CNI_TRY_AGAIN = 11, CNI_NOT_AVAILABLE = 50, CNI_INTERNAL = 100 };

static const char *const FORWARDED_ENV[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"};

/* cniVersion of the errors the shim makes; replaced by the config's as soon as stdin is read. */
static char g_version[16] = DEFAULT_CNI_VERSION;

/* ---- output --------------------------------------------------------------- */

/* Bytes >= 0x80 pass through untouched: the agent decodes the line as UTF-8,
 * and anything the shim did to them could only lose information. */
static size_t escape_byte(unsigned char c, char out[6]) {
  static const char hex[] = "0123456789abcdef";
  if (c == '"' || c == '\\') {
    out[0] = '\\';
    out[1] = (char)c;
    return 2;
  }
  if (c < 0x20) {
    memcpy(out, "\\u00", 4);
    out[4] = hex[c >> 4];
    out[5] = hex[c & 15];
    return 6;
  }
  out[0] = (char)c;
  return 1;
}

static void put_json_string(FILE *f, const char *s, size_t n) {
  char e[6];
  putc('"', f);
  for (size_t i = 0; i < n; i++) fwrite(e, 1, escape_byte((unsigned char)s[i], e), f);
  putc('"', f);
}

static _Noreturn void fail_raw(int code, const char *msg, const char *details, size_t dlen) {
  fprintf(stderr, "weft-cni: error %d: %s: ", code, msg);
  /* The log stays one line whatever the agent put in a message. */
  for (size_t i = 0; i < dlen; i++) putc((unsigned char)details[i] < 0x20 ? ' ' : details[i], stderr);
  putc('\n', stderr);
  printf("{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":", g_version, code);
  put_json_string(stdout, msg, strlen(msg));
  fputs(",\"details\":", stdout);
  put_json_string(stdout, details, dlen);
  fputs("}\n", stdout);
  exit(1);
}

__attribute__((format(printf, 3, 4))) static _Noreturn void fail(int code, const char *msg, const char *fmt, ...) {
  char details[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(details, sizeof details, fmt, ap);
  va_end(ap);
  fail_raw(code, msg, details, strlen(details));
}

/* ---- growable buffer -------------------------------------------------------- */

struct buf {
  char *p;
  size_t n, cap;
};

static void buf_reserve(struct buf *b, size_t extra) {
  if (extra <= b->cap - b->n) return;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap - b->n < extra) {
    if (cap > SIZE_MAX / 2) fail(CNI_IO, "out of memory", "a buffer would exceed the address space");
    cap *= 2;
  }
  char *p = realloc(b->p, cap);
  if (!p) fail(CNI_IO, "out of memory", "cannot grow a buffer to %zu bytes", cap);
  b->p = p;
  b->cap = cap;
}

static void buf_put(struct buf *b, const char *s, size_t n) {
  if (n == 0) return;
  buf_reserve(b, n);
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static char *xmalloc(size_t n) {
  char *p = malloc(n ? n : 1);
  if (!p) fail(CNI_IO, "out of memory", "cannot allocate %zu bytes", n);
  return p;
}

static void buf_puts(struct buf *b, const char *s) { buf_put(b, s, strlen(s)); }

static void buf_put_json(struct buf *b, const char *s, size_t n) {
  char e[6];
  buf_reserve(b, n + 2);
  buf_put(b, "\"", 1);
  for (size_t i = 0; i < n; i++) buf_put(b, e, escape_byte((unsigned char)s[i], e));
  buf_put(b, "\"", 1);
}

/* ---- a bounds-checked scanner for top-level keys ------------------------------
 * Positions are indexes into a span; NPOS means "not there / malformed", and
 * every caller turns that into "use the default". Nothing is recursive, so a
 * deeply nested config cannot exhaust the stack. */

struct span {
  const char *p; /* NULL: absent */
  size_t n;
};

static size_t skip_ws(struct span s, size_t i) {
  while (i < s.n && (s.p[i] == ' ' || s.p[i] == '\t' || s.p[i] == '\n' || s.p[i] == '\r')) i++;
  return i;
}

/* s.p[i] is the opening quote; returns the index after the closing one. */
static size_t skip_string(struct span s, size_t i) {
  for (i++; i < s.n; i++) {
    if (s.p[i] == '\\') i++;
    else if (s.p[i] == '"') return i + 1;
  }
  return NPOS;
}

static size_t skip_value(struct span s, size_t i) {
  if (i >= s.n) return NPOS;
  if (s.p[i] == '"') return skip_string(s, i);
  if (s.p[i] == '{' || s.p[i] == '[') {
    size_t depth = 0;
    while (i < s.n) {
      char c = s.p[i];
      if (c == '"') {
        if ((i = skip_string(s, i)) == NPOS) return NPOS;
        continue;
      }
      if (c == '{' || c == '[') depth++;
      else if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      i++;
    }
    return NPOS;
  }
  size_t start = i;
  while (i < s.n && !strchr(" \t\r\n,:]}", s.p[i])) i++;
  return i == start ? NPOS : i;
}

static bool hex4(struct span s, size_t i, uint32_t *out) {
  if (i > s.n || s.n - i < 4) return false;
  uint32_t v = 0;
  for (size_t k = i; k < i + 4; k++) {
    char c = s.p[k];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | (uint32_t)d;
  }
  *out = v;
  return true;
}

/* Decodes a string token (quotes included) into out as UTF-8; false if the
 * token is not a string, has a bad escape, or does not fit. The result is
 * never longer than the token, so cap = tok.n always suffices. */
static bool decode_string(struct span tok, char *out, size_t cap, size_t *outn) {
  if (!tok.p || tok.n < 2 || tok.p[0] != '"' || tok.p[tok.n - 1] != '"') return false;
  struct span body = {tok.p, tok.n - 1};
  size_t i = 1, o = 0;
  while (i < body.n) {
    unsigned char c = (unsigned char)body.p[i++];
    uint32_t cp = c;
    if (c == '\\') {
      if (i >= body.n) return false;
      static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
      const char *e = memchr(from, body.p[i], sizeof from - 1);
      uint32_t lo;
      if (e) {
        cp = (unsigned char)to[e - from];
        i++;
      } else if (body.p[i] == 'u' && hex4(body, i + 1, &cp)) {
        i += 5;
        if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < body.n && body.p[i] == '\\' && body.p[i + 1] == 'u' &&
            hex4(body, i + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          i += 6;
        } else if (cp >= 0xD800 && cp < 0xE000) {
          cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
        }
      } else {
        return false;
      }
    }
    char u[4];
    size_t k;
    if (cp < 0x80 || c != '\\') u[0] = (char)cp, k = 1; /* raw bytes are copied as they are */
    else if (cp < 0x800) u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), k = 2;
    else if (cp < 0x10000) u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)), u[2] = (char)(0x80 | (cp & 0x3F)), k = 3;
    else u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)), u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), k = 4;
    if (k > cap - o) return false;
    memcpy(out + o, u, k);
    o += k;
  }
  *outn = o;
  return true;
}

/* The raw value of key in the object obj (leading whitespace allowed). A
 * repeated key yields its last value, as JSON.parse in the agent does. If the
 * object is malformed after a match, the match still counts: the agent will
 * reject the config anyway, and the shim only needs its best guess. */
static struct span find_key(struct span obj, const char *key) {
  struct span found = {NULL, 0};
  size_t keylen = strlen(key);
  size_t i = skip_ws(obj, 0);
  if (!obj.p || i >= obj.n || obj.p[i] != '{') return found;
  i = skip_ws(obj, i + 1);
  while (i < obj.n && obj.p[i] == '"') {
    size_t kend = skip_string(obj, i);
    if (kend == NPOS) break;
    char name[64];
    size_t namelen = 0;
    bool match = decode_string((struct span){obj.p + i, kend - i}, name, sizeof name, &namelen) && namelen == keylen &&
                 memcmp(name, key, keylen) == 0;
    i = skip_ws(obj, kend);
    if (i >= obj.n || obj.p[i] != ':') break;
    size_t vstart = skip_ws(obj, i + 1), vend = skip_value(obj, vstart);
    if (vend == NPOS) break;
    if (match) found = (struct span){obj.p + vstart, vend - vstart};
    i = skip_ws(obj, vend);
    if (i >= obj.n || obj.p[i] != ',') break;
    i = skip_ws(obj, i + 1);
  }
  return found;
}

/* A JSON number, without strtod's extras (hex, inf, nan). */
static bool number_value(struct span v, double *out) {
  char tmp[32];
  if (!v.p || v.n == 0 || v.n >= sizeof tmp || v.p[0] == '+') return false;
  for (size_t i = 0; i < v.n; i++)
    if (!memchr("0123456789+-.eE", v.p[i], 15)) return false;
  memcpy(tmp, v.p, v.n);
  tmp[v.n] = '\0';
  char *end;
  errno = 0;
  *out = strtod(tmp, &end);
  return errno == 0 && *end == '\0';
}

/* Plausible = d.d.d with short numeric parts; anything else must not be echoed into JSON. */
static bool plausible_version(const char *s, size_t n) {
  int dots = 0;
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] >= '0' && s[i] <= '9' && ++run <= 4) continue;
    if (s[i] != '.' || run == 0 || ++dots > 2) return false;
    run = 0;
  }
  return dots == 2 && run > 0 && run <= 4;
}

/* ---- socket I/O with one deadline ----------------------------------------- */

struct agent {
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  double timeout_s;
  int64_t deadline_ms;
  int down_code; /* 11, or 50 for STATUS */
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static _Noreturn void agent_down(const struct agent *a, const char *msg, const char *why) {
  fail(a->down_code, msg,
       "socket %s: %s; is `weft agent` running? Start it with `weft up` or `weft agent`, "
       "or point \"agentSocket\" in the network config at its socket",
       a->path, why);
}

static _Noreturn void agent_timeout(const struct agent *a) {
  fail(a->down_code, "weft agent did not answer in time",
       "no answer on %s within %g s; check that `weft agent` is running and healthy (see its log), "
       "or raise \"timeoutSeconds\" in the network config",
       a->path, a->timeout_s);
}

/* Waits for events on fd until the deadline; EINTR just retries with the time left. */
static void wait_fd(const struct agent *a, int fd, short events) {
  for (;;) {
    int64_t left = a->deadline_ms - now_ms();
    if (left <= 0) agent_timeout(a);
    struct pollfd p = {.fd = fd, .events = events};
    int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
    if (r > 0) return; /* POLLHUP/POLLERR too: the next recv/send reports them */
    if (r < 0 && errno != EINTR) agent_down(a, "weft agent is not reachable", strerror(errno));
  }
}

static int agent_connect(const struct agent *a) {
  /* Non-blocking, so a full listen backlog (EAGAIN) fails fast instead of hanging past the deadline. */
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) fail(CNI_IO, "cannot create a unix socket", "%s", strerror(errno));
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, a->path, strlen(a->path) + 1);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) return fd;
  if (errno != EINPROGRESS && errno != EINTR) agent_down(a, "weft agent is not reachable", strerror(errno));
  /* An interrupted or in-progress connect completes in the background: wait for it. */
  wait_fd(a, fd, POLLOUT);
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err) agent_down(a, "weft agent is not reachable", strerror(err));
  return fd;
}

/* False if the agent hung up mid-request: it may have said why before
 * closing (a request line over its limit), so the caller still reads. */
static bool send_all(const struct agent *a, int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w >= 0) {
      p += w;
      n -= (size_t)w;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_fd(a, fd, POLLOUT);
    } else if (errno == EPIPE || errno == ECONNRESET) {
      return false;
    } else if (errno != EINTR) {
      agent_down(a, "cannot send the request to the weft agent", strerror(errno));
    }
  }
  return true;
}

/* Reads up to the first newline; the request is not half-closed first,
 * because the agent's socket would then end its side before answering. */
static struct span read_line(const struct agent *a, int fd, struct buf *b) {
  size_t scanned = 0;
  for (;;) {
    buf_reserve(b, 65536);
    ssize_t r = recv(fd, b->p + b->n, b->cap - b->n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wait_fd(a, fd, POLLIN);
      continue;
    }
    if (r <= 0)
      agent_down(a, "weft agent closed the connection before answering",
                 r == 0 ? "the connection ended without a complete answer (did the agent crash or restart?)" : strerror(errno));
    b->n += (size_t)r;
    char *nl = memchr(b->p + scanned, '\n', b->n - scanned);
    if (nl) return (struct span){b->p, (size_t)(nl - b->p)};
    scanned = b->n;
    if (b->n > ANSWER_CAP) fail(CNI_IO, "the weft agent's answer is too large", "more than %zu bytes on %s", ANSWER_CAP, a->path);
  }
}

static void write_out(const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(STDOUT_FILENO, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      /* stdout is gone, so the CNI error object could not be delivered either. */
      fprintf(stderr, "weft-cni: cannot write the result to stdout: %s\n", strerror(errno));
      exit(1);
    }
    p += w;
    n -= (size_t)w;
  }
}

/* ---- the steps ------------------------------------------------------------------ */

static struct span read_stdin(void) {
  static char data[STDIN_CAP + 1]; /* one byte more, to tell "exactly 1 MiB" from "too much" */
  size_t n = 0;
  while (n < sizeof data) {
    ssize_t r = read(STDIN_FILENO, data + n, sizeof data - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(CNI_IO, "cannot read the network config from stdin", "%s", strerror(errno));
    if (r == 0) break;
    n += (size_t)r;
  }
  return (struct span){data, n};
}

/* Absent or odd values in the config mean defaults, here and in configure_agent. */
static void configure_version(struct span config) {
  char v[sizeof g_version];
  size_t n;
  if (decode_string(find_key(config, "cniVersion"), v, sizeof v, &n) && plausible_version(v, n)) {
    memcpy(g_version, v, n);
    g_version[n] = '\0';
  }
}

static void configure_agent(struct span config, struct agent *a) {
  size_t n;
  strcpy(a->path, DEFAULT_SOCKET);
  struct span sock = find_key(config, "agentSocket");
  char *path = sock.p ? xmalloc(sock.n) : NULL;
  if (path && decode_string(sock, path, sock.n, &n)) {
    if (n == 0 || memchr(path, '\0', n)) fail(CNI_BAD_CONFIG, "invalid network config", "\"agentSocket\" must be a non-empty path");
    if (n >= sizeof a->path)
      fail(CNI_BAD_CONFIG, "invalid network config", "\"agentSocket\" is %zu bytes long, a unix socket path holds at most %zu: %.*s", n,
           sizeof a->path - 1, (int)(n > 200 ? 200 : n), path);
    memcpy(a->path, path, n);
    a->path[n] = '\0';
  }
  free(path);

  double t;
  a->timeout_s = number_value(find_key(config, "timeoutSeconds"), &t) && t >= 1 && t <= 600 ? t : DEFAULT_TIMEOUT_S;
}

static void build_request(struct buf *b, struct span config) {
  buf_puts(b, "{\"id\":1,\"method\":\"cni\",\"params\":{\"env\":{");
  const char *sep = "";
  for (size_t i = 0; i < sizeof FORWARDED_ENV / sizeof FORWARDED_ENV[0]; i++) {
    const char *v = getenv(FORWARDED_ENV[i]);
    if (!v) continue;
    buf_puts(b, sep);
    sep = ",";
    buf_put_json(b, FORWARDED_ENV[i], strlen(FORWARDED_ENV[i]));
    buf_puts(b, ":");
    buf_put_json(b, v, strlen(v));
  }
  buf_puts(b, "},\"stdin\":");
  buf_put_json(b, config.p, config.n);
  buf_puts(b, "}}\n");
}

/* The answer is not NUL-terminated; also keeps a garbage answer from flooding the error. */
static int excerpt(struct span s) { return s.n > 200 ? 200 : (int)s.n; }

/* Relays {"result":{"exitCode":N,"output":X}} or {"error":{"message":M}}. */
static int relay_answer(const struct agent *a, struct span line) {
  struct span result = find_key(line, "result");
  if (result.p) {
    struct span out = find_key(result, "output");
    double code;
    if (!number_value(find_key(result, "exitCode"), &code) || !(code >= 0 && code <= 255) || code != (double)(int)code)
      fail(CNI_INTERNAL, "malformed answer from the weft agent", "no exitCode 0..255 in the answer on %s: %.*s", a->path, excerpt(line), line.p);
    if (out.p && !(out.n == 4 && memcmp(out.p, "null", 4) == 0)) {
      write_out(out.p, out.n);
      write_out("\n", 1);
    }
    return (int)code;
  }
  struct span err = find_key(line, "error");
  if (err.p) {
    struct span m = find_key(err, "message");
    char *msg = m.p ? xmalloc(m.n) : NULL;
    size_t n;
    if (msg && decode_string(m, msg, m.n, &n)) fail_raw(CNI_INTERNAL, "weft agent refused the request", msg, n);
    fail_raw(CNI_INTERNAL, "weft agent refused the request", err.p, err.n);
  }
  fail(CNI_INTERNAL, "malformed answer from the weft agent", "neither result nor error in the answer on %s: %.*s", a->path, excerpt(line), line.p);
}

int main(void) {
  /* A runtime that stops reading stdout must not kill the shim silently. */
  signal(SIGPIPE, SIG_IGN);

  struct span config = read_stdin();
  if (config.n > STDIN_CAP) {
    configure_version((struct span){config.p, STDIN_CAP}); /* the head of the config is all there is */
    fail(CNI_IO, "network config too large", "stdin holds more than %zu bytes", STDIN_CAP);
  }
  configure_version(config);

  const char *command = getenv("CNI_COMMAND");
  if (command && strcmp(command, "VERSION") == 0) {
    printf("{\"cniVersion\":\"%s\",\"supportedVersions\":%s}\n", g_version, SUPPORTED_VERSIONS);
    return fflush(stdout) == 0 ? 0 : 1;
  }
  struct agent a = {.down_code = command && strcmp(command, "STATUS") == 0 ? CNI_NOT_AVAILABLE : CNI_TRY_AGAIN};
  configure_agent(config, &a);

  struct buf request = {0}, answer = {0};
  build_request(&request, config);
  a.deadline_ms = now_ms() + (int64_t)(a.timeout_s * 1000);
  int fd = agent_connect(&a);
  (void)send_all(&a, fd, request.p, request.n); /* a refusal is read like any other answer */
  struct span line = read_line(&a, fd, &answer);
  close(fd);
  int status = relay_answer(&a, line);
  free(request.p);
  free(answer.p);
  return status;
}
