# The workbook's recipes. Each is one line that calls the runner in tools/workbook, where the
# logic lives (and is tested). A chapter is named chapter1, ch1, ch01, 1, or by its topic.

# tools/wb builds the runner if needed (saying so first, so a first run is never silent), then
# runs it.
wb := "sh tools/wb"

# The pinned tool versions (WORKBOOK_JUST, WORKBOOK_MDBOOK, WORKBOOK_MDBOOK_QUIZ), written once.
set dotenv-path := "tools/pins.env"

# list the recipes
default:
    @just --list --unsorted

# serve the book on http://localhost:4000 (installs the pinned mdbook if missing; the quizzes' mdbook-quiz installs in the background while the book is served); the services keep 3000
[no-exit-message]
serve:
    @sh tools/serve

# run a chapter's tests against your code: `just test chapter1`, one section's: `just test chapter1 1.2` (add --solution for the reference)
[no-exit-message]
test chapter="" *args:
    @{{wb}} test {{chapter}} {{args}}

# re-run a chapter's tests (or one section's: `just watch chapter1 1.2`) on every save
[no-exit-message]
watch chapter="" *args:
    @{{wb}} watch {{chapter}} {{args}}

# the next hint for the first failing test (of one section: `just hint chapter1 1.2`)
[no-exit-message]
hint chapter="" *args:
    @{{wb}} hint {{chapter}} {{args}}

# every chapter: tests passing out of total
[no-exit-message]
progress:
    @{{wb}} progress

# the difference between your files and the solution
[no-exit-message]
solution chapter="":
    @{{wb}} solution {{chapter}}

# put the starter files back (yours are kept in .workbook/backups); --yes to skip the question
[no-exit-message]
reset chapter="" *args:
    @{{wb}} reset {{chapter}} {{args}}

# bring back your files from the last `just reset` of a chapter
[no-exit-message]
restore chapter="" *args:
    @{{wb}} restore {{chapter}} {{args}}

# prepare this machine to work offline (crates, builds, mdbook, images); `--save FILE` / `--load FILE` for images
[no-exit-message]
prefetch *args:
    @{{wb}} prefetch {{args}}

# check this machine for everything the workbook needs
[no-exit-message]
doctor:
    @{{wb}} doctor

# remove what earlier runs of this checkout that died (with the machine, say) left on the Docker engine; `just doctor` lists it
[no-exit-message]
clean:
    @{{wb}} clean

# run a chapter's service: `just run chapter1` (yours) or `just run chapter1 --solution`
[no-exit-message]
run chapter="" *args:
    @{{wb}} run {{chapter}} {{args}}

# prove the workbook sound: solutions pass, starters fail, lint, book, links, schedules (`--list` names each check, `--only NAME` runs one)
[no-exit-message]
verify *args:
    @command -v mdbook >/dev/null 2>&1 || cargo install --locked mdbook@$WORKBOOK_MDBOOK
    @command -v mdbook-quiz >/dev/null 2>&1 || cargo install --locked mdbook-quiz@$WORKBOOK_MDBOOK_QUIZ
    @{{wb}} verify {{args}}

# measure a chapter's timing goals, side by side: `just bench chapter1`
[no-exit-message]
bench chapter="":
    @{{wb}} bench {{chapter}}

# every ready chapter's solution, run as many times in a row as chapters.toml's `soak` says (CI runs it): `just soak chapter4 --repeat 1`
[no-exit-message]
soak *args:
    @{{wb}} soak {{args}}

# start a Redis in Docker on 127.0.0.1:6379, for machines without redis-server
[no-exit-message]
redis:
    @{{wb}} redis

# stop the Redis started by `just redis`
[no-exit-message]
redis-stop:
    @{{wb}} redis --stop

# the chapter 5 lab: build the service and start Redis, N replicas (default 3) and HAProxy on 127.0.0.1:8088
[no-exit-message]
up replicas="3":
    @{{wb}} lab up {{replicas}}

# the lab: change the number of replicas, e.g. `just scale 5`
[no-exit-message]
scale replicas:
    @{{wb}} lab scale {{replicas}}

# the lab: load the balancer over keep-alive connections and report distribution, status codes, latency (`--duration 30s --concurrency 16 --mode per-request`)
[no-exit-message]
load *args:
    @{{wb}} lab load {{args}}

# the lab: kill one replica with SIGKILL
[no-exit-message]
chaos:
    @{{wb}} lab chaos

# the lab: replace every replica with a fresh build, one at a time (`--surge N`: N at a time)
[no-exit-message]
rolling-deploy *args:
    @{{wb}} lab rolling-deploy {{args}}

# the lab: stop and remove it, and the image it built
[no-exit-message]
down:
    @{{wb}} lab down

# run chapter 4's reference pipeline on this machine: `just pipeline --branch main` (yours: `just run chapter4 -- --branch main`)
[no-exit-message]
pipeline *args:
    @{{wb}} run chapter4 --solution -- {{args}}

# the workshop room: `just room` starts it (instructor), `just room join URL CODE` joins it, once (learner), `just room leave`
[no-exit-message]
room *args:
    @{{wb}} room {{args}}

# list the chapters
[no-exit-message]
chapters:
    @{{wb}} list
