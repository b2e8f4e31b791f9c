// corio/corio.hpp — includes every public corio header.
#pragma once

#include "corio/clock.hpp"
#include "corio/error.hpp"
#include "corio/event_loop.hpp"
#include "corio/log.hpp"
#include "corio/run.hpp"
#include "corio/shield.hpp"
#include "corio/sleep.hpp"
#include "corio/spawn.hpp"
#include "corio/task.hpp"
#include "corio/wait_for.hpp"
