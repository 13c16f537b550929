// The epoll event bits of a Poller interest (loop/poller.h): one definition for the epoll
// backend and for registrations queued on an IoBatch (loop/io_batch.h). Linux only.
#pragma once
#include <sys/epoll.h>

#include <cstdint>

#include "loop/poller.h"

namespace pen::loop {

inline uint32_t epollEvents(uint32_t interest) {
  uint32_t e = 0;
  if (interest & kRead) e |= EPOLLIN | EPOLLRDHUP;
  if (interest & kWrite) e |= EPOLLOUT;
  if (interest & kEdge) e |= EPOLLET;
  return e;
}

}  // namespace pen::loop
