import { describe, expect, it } from '@jest/globals';
import { tryIt } from './readme-script';

const readme = (block: string) => `# Title\n\n## Try it\n\nIntro.\n\n\`\`\`bash\n${block}\`\`\`\n\n## Next\n`;

describe('tryIt', () => {
  describe('when the block starts, uses and stops the service', () => {
    it('moves the port on the start line only and splits off the stop line', () => {
      const script = tryIt(readme('npm start -- --detach   # c\n\nnpm run cli -- x\nnpm stop\n'), 39411);

      expect(script).toEqual({
        run: ['SIGNER__SERVER__PORT=39411 npm start -- --detach   # c', 'npm run cli -- x'],
        stop: 'npm stop',
      });
    });
  });

  describe('when the block never stops the service', () => {
    it('names the missing stop line', () => {
      expect(() => tryIt(readme('npm start &\nnpm run cli -- x\n'), 1)).toThrow(/no npm stop line/);
    });
  });

  describe('when the section has no bash block', () => {
    it('names the missing block', () => {
      expect(() => tryIt('## Try it\n\nnothing\n\n## Next\n', 1)).toThrow(/no ```bash block/);
    });
  });
});
