#ifndef TRAFFIC_POLICE_CHIREDIS_SHIM_H
#define TRAFFIC_POLICE_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>

/// `redisContext.errstr` is a `char[128]`, which Swift imports as a tuple; read it as a C string.
static inline const char *tp_redis_errstr(const redisContext *c) { return c->errstr; }
#endif
