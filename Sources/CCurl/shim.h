#ifndef TRAFFIC_POLICE_CCURL_SHIM_H
#define TRAFFIC_POLICE_CCURL_SHIM_H
#include <curl/curl.h>
#endif
