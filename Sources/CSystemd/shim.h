#ifndef TRAFFIC_POLICE_CSYSTEMD_SHIM_H
#define TRAFFIC_POLICE_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#endif
