# Build stage: compile TypeScript and the native SQLite binding.
FROM node:20-bookworm AS build
WORKDIR /app
# npm ci compiles the sources (the package's prepare script), so they come first.
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

# Runtime stage: no compilers, non-root, with the Song font for seal and license text, HanaMin B
# (fonts-hanazono) for the CJK Extension B characters the Song font lacks, and poppler's pdftoppm
# for the image of a licence on its public page.
FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends fonts-arphic-uming fonts-hanazono ca-certificates poppler-utils \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY templates ./templates
COPY policies ./policies
# The CLIs as commands (the package's bin entries): eseal-admin, eseal-hsm, eseal-verify.
RUN mkdir -p /data && chown node:node /data \
  && chmod +x dist/cli/*.js \
  && ln -s /app/dist/cli/admin.js /usr/local/bin/eseal-admin \
  && ln -s /app/dist/cli/hsm.js /usr/local/bin/eseal-hsm \
  && ln -s /app/dist/cli/verify.js /usr/local/bin/eseal-verify
USER node
# No development PKI in a real deployment: trust anchors, TSA and seals come from configuration.
ENV NODE_ENV=production DATA_DIR=/data PORT=8080 DEV_PKI=false
EXPOSE 8080
CMD ["node", "dist/server.js"]
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
