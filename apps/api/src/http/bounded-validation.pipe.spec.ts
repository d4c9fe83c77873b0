import { BadRequestException } from '@nestjs/common';
import { IsString } from 'class-validator';
import { BoundedValidationPipe, capMessages, MAX_VALIDATION_MESSAGES } from './bounded-validation.pipe';

class MessageDto {
  @IsString()
  message: string;
}

const body = { type: 'body' as const, metatype: MessageDto };
const pipe = new BoundedValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true });

const rejection = async (value: unknown): Promise<BadRequestException> => {
  try {
    await pipe.transform(value, body);
  } catch (error) {
    if (error instanceof BadRequestException) return error;
    throw error;
  }
  throw new Error('expected a 400');
};

describe(BoundedValidationPipe.name, () => {
  it('validates as ValidationPipe does', async () => {
    await expect(pipe.transform({ message: 'hi' }, body)).resolves.toEqual({ message: 'hi' });
    const error = await rejection({ message: 1 });
    expect(error.getResponse()).toMatchObject({ message: ['message must be a string'] });
  });

  it(`lists at most ${MAX_VALIDATION_MESSAGES} messages and counts the rest`, async () => {
    const value: Record<string, unknown> = { message: 'hi' };
    for (let i = 0; i < 150; i++) value[`extra${i}`] = i;
    const { message } = (await rejection(value)).getResponse() as { message: string[] };
    expect(message).toHaveLength(MAX_VALIDATION_MESSAGES + 1);
    expect(message[0]).toBe('property extra0 should not exist');
    expect(message.at(-1)).toBe('and 140 more errors');
  });

  it.each(['toString', 'constructor', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'prototype'])(
    'refuses a key named like an inherited property, or prototype (%s), at any depth, which would vanish unseen',
    async (name) => {
      for (const value of [
        { message: 'hi', [name]: 'x' },
        { message: 'hi', nested: [{ [name]: 1 }] },
      ]) {
        const { message } = (await rejection(value)).getResponse() as { message: string[] };
        expect(message).toContain(`property ${name} should not exist`);
      }
      const query = { type: 'query' as const, metatype: MessageDto };
      await expect(pipe.transform({ message: 'hi', [name]: 'x' }, query)).rejects.toBeInstanceOf(BadRequestException);
    },
  );

  it('answers a RangeError of the transformation (a value nested past the call stack) with 400', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i++) deep = { message: deep };
    const error = await rejection(deep);
    expect(error.getStatus()).toBe(400);
    expect(error.message).toMatch(/too deeply nested/);
  });
});

describe(capMessages.name, () => {
  it('keeps a short list as it is and counts what it leaves out', () => {
    expect(capMessages(['a', 'b'], 2)).toEqual(['a', 'b']);
    expect(capMessages(['a', 'b', 'c'], 2)).toEqual(['a', 'b', 'and 1 more error']);
  });
});
