//go:build linux && cgo && seccomp

// Seccomp filter cache: interposes the libseccomp calls that build and
// export a filter so that a filter built before is not compiled again.
//
// libcontainer compiles the container's seccomp profile with libseccomp in
// the container's init process on every start. For docker's default profile
// (about 400 rules, three architectures) that costs 30-40 ms of CPU, the
// largest single item of a container start. The BPF program libseccomp
// generates depends only on the sequence of calls that built the filter and
// on the library itself, so this file records that sequence (init, arch,
// attribute and rule calls) as a byte string, the cache key, and defers the
// rule calls. On export the key is looked up in a cache directory: a hit
// writes the stored program; a miss replays the deferred rules into the real
// filter, exports it and stores the result. Entries hold the whole key and
// are compared byte for byte, so a hash collision can only cause a miss.
//
// The cache is off (every call goes straight to libseccomp) until
// scmpcache_enable gives it a directory, and for any filter whose building
// does not follow the simple shape init, arch/attr calls, rules, export.

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_MAGIC "servin-scmpcache-1"
#define MAX_FILTERS 4
#define MAX_ENTRY (1 << 20)

static int cache_dirfd = -1;

struct rule {
	int exact;
	uint32_t action;
	int syscall;
	unsigned int arg_cnt;
	struct scmp_arg_cmp *args;
};

struct recorder {
	scmp_filter_ctx ctx;
	int cacheable;
	unsigned char *key;
	size_t key_len, key_cap;
	struct rule *rules;
	size_t n_rules, rules_cap;
};

static struct recorder recorders[MAX_FILTERS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

// real_* are libseccomp's own functions, found past this executable.
#define REAL(name, type) \
	static type real_##name(void) { \
		static type fn; \
		if (!fn) fn = (type)dlsym(RTLD_NEXT, #name); \
		return fn; \
	}
typedef scmp_filter_ctx (*init_fn)(uint32_t);
typedef int (*reset_fn)(scmp_filter_ctx, uint32_t);
typedef void (*release_fn)(scmp_filter_ctx);
typedef int (*merge_fn)(scmp_filter_ctx, scmp_filter_ctx);
typedef int (*arch_fn)(scmp_filter_ctx, uint32_t);
typedef int (*ctx_fn)(const scmp_filter_ctx);
typedef int (*attr_set_fn)(scmp_filter_ctx, enum scmp_filter_attr, uint32_t);
typedef int (*priority_fn)(scmp_filter_ctx, int, uint8_t);
typedef int (*rule_fn)(scmp_filter_ctx, uint32_t, int, unsigned int, const struct scmp_arg_cmp *);
typedef int (*export_fn)(const scmp_filter_ctx, int);
REAL(seccomp_init, init_fn)
REAL(seccomp_reset, reset_fn)
REAL(seccomp_release, release_fn)
REAL(seccomp_merge, merge_fn)
REAL(seccomp_arch_add, arch_fn)
REAL(seccomp_arch_remove, arch_fn)
REAL(seccomp_load, ctx_fn)
REAL(seccomp_attr_set, attr_set_fn)
REAL(seccomp_syscall_priority, priority_fn)
REAL(seccomp_rule_add_array, rule_fn)
REAL(seccomp_rule_add_exact_array, rule_fn)
REAL(seccomp_export_pfc, export_fn)
REAL(seccomp_export_bpf, export_fn)

static struct recorder *find(scmp_filter_ctx ctx)
{
	for (int i = 0; i < MAX_FILTERS; i++)
		if (recorders[i].ctx == ctx && ctx != NULL)
			return &recorders[i];
	return NULL;
}

static void drop(struct recorder *r)
{
	for (size_t i = 0; i < r->n_rules; i++)
		free(r->rules[i].args);
	free(r->rules);
	free(r->key);
	memset(r, 0, sizeof(*r));
}

static int put(struct recorder *r, const void *p, size_t n)
{
	if (r->key_len + n > r->key_cap) {
		size_t cap = r->key_cap ? r->key_cap * 2 : 4096;
		while (cap < r->key_len + n)
			cap *= 2;
		unsigned char *k = realloc(r->key, cap);
		if (!k)
			return -1;
		r->key = k;
		r->key_cap = cap;
	}
	memcpy(r->key + r->key_len, p, n);
	r->key_len += n;
	return 0;
}

static int put_op(struct recorder *r, char op, uint32_t a, uint32_t b)
{
	if (put(r, &op, 1) || put(r, &a, 4) || put(r, &b, 4)) {
		r->cacheable = 0;
		return -1;
	}
	return 0;
}

// flush applies the deferred rules to the real filter. The recorder stops
// caching: whatever comes next is not part of a key.
static int flush(struct recorder *r)
{
	int rc = 0;
	for (size_t i = 0; i < r->n_rules && rc == 0; i++) {
		struct rule *u = &r->rules[i];
		rule_fn fn = u->exact ? real_seccomp_rule_add_exact_array() : real_seccomp_rule_add_array();
		rc = fn(r->ctx, u->action, u->syscall, u->arg_cnt, u->args);
	}
	for (size_t i = 0; i < r->n_rules; i++)
		free(r->rules[i].args);
	r->n_rules = 0;
	r->cacheable = 0;
	return rc;
}

// settle is called before any call that is not part of the simple shape:
// the filter is made real and the recorder retired.
static int settle(scmp_filter_ctx ctx)
{
	int rc = 0;
	pthread_mutex_lock(&lock);
	struct recorder *r = find(ctx);
	if (r) {
		rc = flush(r);
		drop(r);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

scmp_filter_ctx seccomp_init(uint32_t def_action)
{
	scmp_filter_ctx ctx = real_seccomp_init()(def_action);
	if (!ctx || cache_dirfd < 0)
		return ctx;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < MAX_FILTERS; i++) {
		struct recorder *r = &recorders[i];
		if (r->ctx)
			continue;
		r->ctx = ctx;
		r->cacheable = 1;
		const struct scmp_version *v = seccomp_version();
		uint32_t api = seccomp_api_get();
		if (put(r, KEY_MAGIC, sizeof(KEY_MAGIC)) || put(r, v, sizeof(*v)) || put(r, &api, 4))
			r->cacheable = 0;
		put_op(r, 'i', def_action, 0);
		break;
	}
	pthread_mutex_unlock(&lock);
	return ctx;
}

int seccomp_reset(scmp_filter_ctx ctx, uint32_t def_action)
{
	int rc = settle(ctx);
	return rc ? rc : real_seccomp_reset()(ctx, def_action);
}

void seccomp_release(scmp_filter_ctx ctx)
{
	pthread_mutex_lock(&lock);
	struct recorder *r = find(ctx);
	if (r)
		drop(r);
	pthread_mutex_unlock(&lock);
	real_seccomp_release()(ctx);
}

int seccomp_merge(scmp_filter_ctx dst, scmp_filter_ctx src)
{
	int rc = settle(dst);
	if (rc == 0)
		rc = settle(src);
	return rc ? rc : real_seccomp_merge()(dst, src);
}

// record_setting passes a filter setting through and adds it to the key;
// a setting after a rule ends caching for the filter (rules are deferred,
// so their order against settings would be lost).
static int record_setting(scmp_filter_ctx ctx, char op, uint32_t a, uint32_t b)
{
	pthread_mutex_lock(&lock);
	struct recorder *r = find(ctx);
	int rc = 0;
	if (r && r->n_rules > 0) {
		rc = flush(r);
		drop(r);
	} else if (r) {
		put_op(r, op, a, b);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int seccomp_arch_add(scmp_filter_ctx ctx, uint32_t arch)
{
	int rc = record_setting(ctx, 'a', arch, 0);
	return rc ? rc : real_seccomp_arch_add()(ctx, arch);
}

int seccomp_arch_remove(scmp_filter_ctx ctx, uint32_t arch)
{
	int rc = record_setting(ctx, 'r', arch, 0);
	return rc ? rc : real_seccomp_arch_remove()(ctx, arch);
}

int seccomp_attr_set(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value)
{
	int rc = record_setting(ctx, 's', (uint32_t)attr, value);
	return rc ? rc : real_seccomp_attr_set()(ctx, attr, value);
}

int seccomp_syscall_priority(scmp_filter_ctx ctx, int syscall, uint8_t priority)
{
	int rc = record_setting(ctx, 'p', (uint32_t)syscall, priority);
	return rc ? rc : real_seccomp_syscall_priority()(ctx, syscall, priority);
}

static int add_rule(int exact, scmp_filter_ctx ctx, uint32_t action, int syscall,
		    unsigned int arg_cnt, const struct scmp_arg_cmp *args)
{
	pthread_mutex_lock(&lock);
	struct recorder *r = find(ctx);
	if (r && r->cacheable && arg_cnt <= 6) {
		if (r->n_rules == r->rules_cap) {
			size_t cap = r->rules_cap ? r->rules_cap * 2 : 512;
			struct rule *n = realloc(r->rules, cap * sizeof(*n));
			if (!n)
				goto direct;
			r->rules = n;
			r->rules_cap = cap;
		}
		struct rule *u = &r->rules[r->n_rules];
		u->exact = exact;
		u->action = action;
		u->syscall = syscall;
		u->arg_cnt = arg_cnt;
		u->args = NULL;
		if (arg_cnt) {
			u->args = malloc(arg_cnt * sizeof(*args));
			if (!u->args)
				goto direct;
			memcpy(u->args, args, arg_cnt * sizeof(*args));
		}
		put_op(r, exact ? 'E' : 'R', action, (uint32_t)syscall);
		put_op(r, 'n', arg_cnt, 0);
		for (unsigned int i = 0; i < arg_cnt; i++) {
			put_op(r, 'c', args[i].arg, (uint32_t)args[i].op);
			if (put(r, &args[i].datum_a, 8) || put(r, &args[i].datum_b, 8))
				r->cacheable = 0;
		}
		r->n_rules++;
		if (r->cacheable) {
			pthread_mutex_unlock(&lock);
			return 0;
		}
		// The key could not be recorded: apply everything now.
		int rc = flush(r);
		drop(r);
		pthread_mutex_unlock(&lock);
		return rc;
	}
direct:
	if (r) {
		int rc = flush(r);
		drop(r);
		if (rc) {
			pthread_mutex_unlock(&lock);
			return rc;
		}
	}
	pthread_mutex_unlock(&lock);
	rule_fn fn = exact ? real_seccomp_rule_add_exact_array() : real_seccomp_rule_add_array();
	return fn(ctx, action, syscall, arg_cnt, args);
}

int seccomp_rule_add_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
			   unsigned int arg_cnt, const struct scmp_arg_cmp *args)
{
	return add_rule(0, ctx, action, syscall, arg_cnt, args);
}

int seccomp_rule_add_exact_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
				 unsigned int arg_cnt, const struct scmp_arg_cmp *args)
{
	return add_rule(1, ctx, action, syscall, arg_cnt, args);
}

int seccomp_load(const scmp_filter_ctx ctx)
{
	int rc = settle(ctx);
	return rc ? rc : real_seccomp_load()(ctx);
}

int seccomp_export_pfc(const scmp_filter_ctx ctx, int fd)
{
	int rc = settle(ctx);
	return rc ? rc : real_seccomp_export_pfc()(ctx, fd);
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static unsigned char *read_all(int fd, size_t *len)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size > MAX_ENTRY)
		return NULL;
	unsigned char *buf = malloc((size_t)st.st_size);
	if (!buf)
		return NULL;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		got += (size_t)n;
	}
	*len = got;
	return buf;
}

// An entry is: key length (8 bytes), key, program.
static int lookup(const char *name, const struct recorder *r, int out)
{
	int fd = openat(cache_dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	size_t len;
	unsigned char *buf = read_all(fd, &len);
	close(fd);
	if (!buf)
		return -1;
	uint64_t klen;
	int rc = -1;
	if (len >= 8) {
		memcpy(&klen, buf, 8);
		if (klen == r->key_len && len > 8 + klen && memcmp(buf + 8, r->key, klen) == 0)
			rc = write_all(out, buf + 8 + klen, len - 8 - klen) == 0 ? 0 : -2;
	}
	free(buf);
	return rc;
}

static void store(const char *name, const struct recorder *r, const unsigned char *prog, size_t n)
{
	// Not the pid for uniqueness: every container's init is pid 1 in its
	// own namespace, and many may store the same entry at once.
	uint64_t nonce = 0;
	if (getrandom(&nonce, sizeof(nonce), GRND_NONBLOCK) != sizeof(nonce))
		nonce = (uint64_t)(uintptr_t)&nonce ^ (uint64_t)time(NULL);
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".%s.%016llx", name, (unsigned long long)nonce);
	int fd = openat(cache_dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	uint64_t klen = r->key_len;
	int ok = write_all(fd, (const unsigned char *)&klen, 8) == 0 &&
		 write_all(fd, r->key, r->key_len) == 0 && write_all(fd, prog, n) == 0;
	close(fd);
	if (!ok || renameat(cache_dirfd, tmp, cache_dirfd, name) < 0)
		unlinkat(cache_dirfd, tmp, 0);
}

int seccomp_export_bpf(const scmp_filter_ctx ctx, int fd)
{
	pthread_mutex_lock(&lock);
	struct recorder *r = find(ctx);
	if (!r || !r->cacheable) {
		int rc = r ? flush(r) : 0;
		if (r)
			drop(r);
		pthread_mutex_unlock(&lock);
		return rc ? rc : real_seccomp_export_bpf()(ctx, fd);
	}
	char name[32];
	snprintf(name, sizeof(name), "%016llx.bpf", (unsigned long long)fnv1a(r->key, r->key_len));
	int hit = lookup(name, r, fd);
	if (hit != -1) {
		// Served from the cache (0), or the output failed half-way (-2),
		// where a second program must not follow the first.
		pthread_mutex_unlock(&lock);
		return hit == 0 ? 0 : -EIO;
	}
	int rc = flush(r);
	if (rc) {
		drop(r);
		pthread_mutex_unlock(&lock);
		return rc;
	}
	int mem = memfd_create("scmpcache", MFD_CLOEXEC);
	if (mem < 0) {
		drop(r);
		pthread_mutex_unlock(&lock);
		return real_seccomp_export_bpf()(ctx, fd);
	}
	rc = real_seccomp_export_bpf()(ctx, mem);
	size_t n = 0;
	unsigned char *prog = rc == 0 ? read_all(mem, &n) : NULL;
	close(mem);
	if (rc == 0 && !prog)
		rc = -EIO;
	if (rc == 0) {
		store(name, r, prog, n);
		rc = write_all(fd, prog, n);
	}
	free(prog);
	drop(r);
	pthread_mutex_unlock(&lock);
	return rc;
}

// scmpcache_enable turns the cache on with dirfd, an open directory that
// must stay open for the life of the process.
void scmpcache_enable(int dirfd)
{
	cache_dirfd = dirfd;
}
