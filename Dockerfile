# Kupe as an image: the packed package (`npm pack`) installed without dev dependencies on Node.js 24 LTS.
#   docker build -t kupe .
#   docker run -p 8080:8080 -v kupe-data:/var/lib/kupe kupe
# docs/deployment.md says more (PostgreSQL, Redis, settings).
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles its native module here (node-gyp) when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# prepack builds dist/ and console/dist/; the tarball is what `npm pack` ships anywhere.
RUN npm pack --pack-destination /tmp \
 && mkdir -p /opt/kupe \
 && cd /opt/kupe \
 && echo '{"private":true,"allowScripts":{"better-sqlite3":true}}' > package.json \
 && npm install --omit=dev --no-audit --no-fund /tmp/kupe-*.tgz \
 && npm cache clean --force

FROM ${NODE_IMAGE}
COPY --from=build /opt/kupe /opt/kupe
# Data lives on the volume; the install folder belongs to root and is never written to.
RUN mkdir -p /var/lib/kupe && chown node:node /var/lib/kupe
ENV NODE_ENV=production \
    KUPE_HOST=0.0.0.0 \
    KUPE_PORT=8080 \
    KUPE_DATABASE_URL=sqlite:/var/lib/kupe/kupe.db
USER node
WORKDIR /var/lib/kupe
VOLUME ["/var/lib/kupe"]
EXPOSE 8080
# Ready means: the store answers and the instance is not draining.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.KUPE_PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# kupe-server is PID 1 and handles SIGTERM itself: readiness goes 503, then it drains and exits 0.
# (Its #! line execs node with the memory setting the package chose; see docs/performance.md.)
ENTRYPOINT ["/opt/kupe/node_modules/.bin/kupe-server"]
CMD ["serve"]
