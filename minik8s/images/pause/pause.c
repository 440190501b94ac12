/*
 * The pod sandbox ("infra") process: holds the pod's namespaces while the app
 * containers come and go. It sleeps, reaps any orphan that gets reparented to it
 * (it is PID 1 of the pod's PID namespace when that is shared), and exits 0 on
 * SIGTERM/SIGINT so `docker stop` returns at once instead of after the kill timeout
 * (the kernel drops signals to PID 1 that have no handler).
 * Modelled on kubernetes/build/pause/linux/pause.c.
 */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void sigdown(int signo) {
  (void)signo;
  /* Only async-signal-safe calls in a handler: write(2) and _exit(2). */
  static const char msg[] = "pause: shutting down\n";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  _exit(0);
}

static void sigreap(int signo) {
  (void)signo;
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
}

int main(int argc, char **argv) {
  struct sigaction down, reap;
  int i;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-v") == 0) {
      static const char version[] = "minik8s pause 3.9\n";
      (void)!write(STDOUT_FILENO, version, sizeof version - 1);
      return 0;
    }
  }

  memset(&down, 0, sizeof down);
  down.sa_handler = sigdown;
  if (sigaction(SIGINT, &down, NULL) < 0 || sigaction(SIGTERM, &down, NULL) < 0)
    return 1;

  memset(&reap, 0, sizeof reap);
  reap.sa_handler = sigreap;
  reap.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  if (sigaction(SIGCHLD, &reap, NULL) < 0)
    return 2;

  for (;;)
    pause();
  return 42; /* not reached */
}
