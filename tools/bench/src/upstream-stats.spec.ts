import { parseRedisInfo } from './upstream-stats';

const INFO = [
  '# Commandstats',
  'cmdstat_evalsha:calls=200,usec=1800,usec_per_call=9.00,rejected_calls=0,failed_calls=0',
  'cmdstat_set:calls=100,usec=150,usec_per_call=1.50,rejected_calls=0,failed_calls=0',
  'cmdstat_info:calls=4,usec=400,usec_per_call=100.00,rejected_calls=0,failed_calls=0',
  '',
  '# Stats',
  'total_commands_processed:304',
  'total_reads_processed:280',
  'total_writes_processed:280',
].join('\r\n');

describe('parseRedisInfo', () => {
  describe('when INFO commandstats and INFO stats are read together', () => {
    it("sums the Signer's commands and their time, leaving out the bench's INFO, and reads the socket reads", () => {
      expect(parseRedisInfo(INFO)).toEqual({ redisCommands: 300, redisCommandUsec: 1950, redisReads: 280 });
    });
  });

  describe('when Redis has served nothing yet', () => {
    it('reports zeros', () => {
      expect(parseRedisInfo('# Commandstats\r\n\r\n# Stats\r\n')).toEqual({
        redisCommands: 0,
        redisCommandUsec: 0,
        redisReads: 0,
      });
    });
  });
});
