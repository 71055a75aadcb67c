#ifndef TRAFFIC_POLICE_CLIBPQ_SHIM_H
#define TRAFFIC_POLICE_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
