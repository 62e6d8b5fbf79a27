/** The Redis every suite shares (CI starts it; a test never stops it: it cuts a proxy instead). */
export const SHARED_REDIS = { host: '127.0.0.1', port: 6379 };
export const SHARED_REDIS_URL = `redis://${SHARED_REDIS.host}:${SHARED_REDIS.port}`;
