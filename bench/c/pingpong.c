/*
 * pingpong.c: an independent C ping-pong over the same mechanisms and calls as
 * `posix-ipc bench`, to compare against (see README, "Results").
 *
 *   gcc -O2 -o pingpong bench/c/pingpong.c
 *   ./pingpong MECHANISM PLACEMENT ITERATIONS SIZE
 *     MECHANISM: mq | sem | pshared-sem | pshared-mutex | pipe | uds | spin
 *     PLACEMENT: same | cross | none
 *
 * Prints: min p50 p99 max round-trip nanoseconds, after 1000 warm-up round trips.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WARMUP 1000

static void die(const char *what) { perror(what); exit(1); }

static void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) == -1) die("sched_setaffinity");
}

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* One channel: send on `out`, receive on `in`. */
struct side {
    mqd_t mq_out, mq_in;
    sem_t *sem_out, *sem_in;     /* "full" semaphores: posted after a write */
    char *buf_out, *buf_in;      /* one slot each way in shared memory */
    int fd_out, fd_in;
    _Atomic uint64_t *seq_out, *seq_in;
    /* pshared-mutex: one monitor per direction */
    pthread_mutex_t *mu_out, *mu_in;
    pthread_cond_t *cv_out, *cv_in;
    int *full_out, *full_in;
};

static const char *mech;
static size_t size;

static void send_msg(struct side *s, const char *msg, uint64_t n) {
    if (!strcmp(mech, "mq")) {
        if (mq_send(s->mq_out, msg, size, 0) == -1) die("mq_send");
    } else if (!strcmp(mech, "pshared-mutex")) {
        pthread_mutex_lock(s->mu_out);
        while (*s->full_out) pthread_cond_wait(s->cv_out, s->mu_out);
        memcpy(s->buf_out, msg, size);
        *s->full_out = 1;
        pthread_cond_signal(s->cv_out);
        pthread_mutex_unlock(s->mu_out);
    } else if (!strcmp(mech, "sem") || !strcmp(mech, "pshared-sem")) {
        memcpy(s->buf_out, msg, size);
        if (sem_post(s->sem_out) == -1) die("sem_post");
    } else if (!strcmp(mech, "pipe") || !strcmp(mech, "uds")) {
        size_t done = 0;
        while (done < size) {
            ssize_t w = write(s->fd_out, msg + done, size - done);
            if (w <= 0) die("write");
            done += (size_t)w;
        }
    } else {
        memcpy(s->buf_out, msg, size);
        atomic_store_explicit(s->seq_out, n + 1, memory_order_release);
    }
}

static void recv_msg(struct side *s, char *buf, uint64_t n) {
    if (!strcmp(mech, "mq")) {
        if (mq_receive(s->mq_in, buf, size, NULL) == -1) die("mq_receive");
    } else if (!strcmp(mech, "pshared-mutex")) {
        pthread_mutex_lock(s->mu_in);
        while (!*s->full_in) pthread_cond_wait(s->cv_in, s->mu_in);
        memcpy(buf, s->buf_in, size);
        *s->full_in = 0;
        pthread_cond_signal(s->cv_in);
        pthread_mutex_unlock(s->mu_in);
    } else if (!strcmp(mech, "sem") || !strcmp(mech, "pshared-sem")) {
        while (sem_wait(s->sem_in) == -1)
            if (errno != EINTR) die("sem_wait");
        memcpy(buf, s->buf_in, size);
    } else if (!strcmp(mech, "pipe") || !strcmp(mech, "uds")) {
        size_t done = 0;
        while (done < size) {
            ssize_t r = read(s->fd_in, buf + done, size - done);
            if (r <= 0) die("read");
            done += (size_t)r;
        }
    } else {
        while (atomic_load_explicit(s->seq_in, memory_order_acquire) < n + 1)
            __builtin_ia32_pause();
        memcpy(buf, s->buf_in, size);
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s mq|sem|pipe|spin same|cross|none ITERATIONS SIZE\n", argv[0]);
        return 2;
    }
    mech = argv[1];
    int parent_cpu = strcmp(argv[2], "none") ? 0 : -1;
    int child_cpu = !strcmp(argv[2], "cross") ? 1 : parent_cpu;
    long iterations = atol(argv[3]);
    size = (size_t)atol(argv[4]);
    char ab_name[64], ba_name[64], sab_name[64], sba_name[64];
    snprintf(ab_name, sizeof ab_name, "/pingpong_%d_ab", getpid());
    snprintf(ba_name, sizeof ba_name, "/pingpong_%d_ba", getpid());
    snprintf(sab_name, sizeof sab_name, "/pingpong_%d_sab", getpid());
    snprintf(sba_name, sizeof sba_name, "/pingpong_%d_sba", getpid());

    struct side parent = {0}, child = {0};
    if (!strcmp(mech, "mq")) {
        struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = (long)size};
        mqd_t ab = mq_open(ab_name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        mqd_t ba = mq_open(ba_name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
        if (ab == (mqd_t)-1 || ba == (mqd_t)-1) die("mq_open");
        mq_unlink(ab_name);
        mq_unlink(ba_name);
        parent.mq_out = ab; parent.mq_in = ba; child.mq_out = ba; child.mq_in = ab;
    } else if (!strcmp(mech, "pipe")) {
        int ab[2], ba[2];
        if (pipe(ab) == -1 || pipe(ba) == -1) die("pipe");
        parent.fd_out = ab[1]; child.fd_in = ab[0]; child.fd_out = ba[1]; parent.fd_in = ba[0];
    } else if (!strcmp(mech, "uds")) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) die("socketpair");
        parent.fd_out = parent.fd_in = sv[0];
        child.fd_out = child.fd_in = sv[1];
    } else {
        char *shm = mmap(NULL, 4096 + 2 * 65536, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shm == MAP_FAILED) die("mmap");
        parent.buf_out = child.buf_in = shm + 4096;
        child.buf_out = parent.buf_in = shm + 4096 + 65536;
        parent.seq_out = child.seq_in = (_Atomic uint64_t *)shm;
        child.seq_out = parent.seq_in = (_Atomic uint64_t *)(shm + 64);
        if (!strcmp(mech, "pshared-sem")) {
            sem_t *ab = (sem_t *)(shm + 1024), *ba = (sem_t *)(shm + 2048);
            if (sem_init(ab, 1, 0) == -1 || sem_init(ba, 1, 0) == -1) die("sem_init");
            parent.sem_out = child.sem_in = ab;
            child.sem_out = parent.sem_in = ba;
        }
        if (!strcmp(mech, "pshared-mutex")) {
            pthread_mutexattr_t ma;
            pthread_condattr_t ca;
            pthread_mutexattr_init(&ma);
            pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
            pthread_condattr_init(&ca);
            pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
            pthread_mutex_t *mab = (pthread_mutex_t *)(shm + 1024), *mba = (pthread_mutex_t *)(shm + 2048);
            pthread_cond_t *cab = (pthread_cond_t *)(shm + 1536), *cba = (pthread_cond_t *)(shm + 2560);
            pthread_mutex_init(mab, &ma); pthread_mutex_init(mba, &ma);
            pthread_cond_init(cab, &ca); pthread_cond_init(cba, &ca);
            parent.mu_out = child.mu_in = mab; parent.cv_out = child.cv_in = cab;
            child.mu_out = parent.mu_in = mba; child.cv_out = parent.cv_in = cba;
            parent.full_out = child.full_in = (int *)(shm + 3072);
            child.full_out = parent.full_in = (int *)(shm + 3584);
        }
        if (!strcmp(mech, "sem")) {
            sem_t *ab = sem_open(sab_name, O_CREAT | O_EXCL, 0600, 0);
            sem_t *ba = sem_open(sba_name, O_CREAT | O_EXCL, 0600, 0);
            if (ab == SEM_FAILED || ba == SEM_FAILED) die("sem_open");
            sem_unlink(sab_name);
            sem_unlink(sba_name);
            parent.sem_out = child.sem_in = ab;
            child.sem_out = parent.sem_in = ba;
        }
    }
    long total = WARMUP + iterations;
    uint64_t *times = malloc(sizeof(uint64_t) * (size_t)iterations);
    char *msg = calloc(1, size), *buf = calloc(1, size);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == -1) die("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        pin(child_cpu);
        for (long n = 0; n < total; n++) {
            recv_msg(&child, buf, (uint64_t)n);
            send_msg(&child, buf, (uint64_t)n);
        }
        _exit(0);
    }
    pin(parent_cpu);
    for (long n = 0; n < total; n++) {
        memcpy(msg, &n, sizeof n < size ? sizeof n : size);
        uint64_t t0 = now_ns();
        send_msg(&parent, msg, (uint64_t)n);
        recv_msg(&parent, buf, (uint64_t)n);
        uint64_t dt = now_ns() - t0;
        if (n >= WARMUP) times[n - WARMUP] = dt;
    }
    waitpid(pid, NULL, 0);
    qsort(times, (size_t)iterations, sizeof *times, cmp);
    printf("%llu %llu %llu %llu\n", (unsigned long long)times[0],
           (unsigned long long)times[iterations / 2],
           (unsigned long long)times[iterations * 99 / 100],
           (unsigned long long)times[iterations - 1]);
    return 0;
}
