/*
 * monitor_main.c - llmcore-sandbox-monitor: the per-session monitor
 * executable (src/session/monitor.c). Started by lcs_session_create();
 * not meant to be run by hand.
 */
#include "session/session_int.h"

int main(int argc, char **argv)
{
    return lcs_session_monitor_main(argc, argv);
}
