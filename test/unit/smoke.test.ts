import middy from '@middy/core';
describe('toolchain', () => {
  it('runs an ESM middy handler', async () => {
    const h = middy(async (e: number) => e + 1);
    await expect(h(1, {} as never)).resolves.toBe(2);
  });
});
