// Test client for roar-proxy: streams FILE to s3://BUCKET/node/stream.bin
// with @aws-sdk/client-s3 (which sends aws-chunked with a trailing
// checksum), reads it back into FILE.back and prints the PUT's ETag.
// usage: node s3_put_get.mjs ENDPOINT FILE BUCKET [create]
import { S3Client, PutObjectCommand, GetObjectCommand, CreateBucketCommand } from "@aws-sdk/client-s3";
import { createReadStream, statSync, writeFileSync } from "node:fs";

const [endpoint, file, bucket, create] = process.argv.slice(2);
const s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true });
if (create === "create") {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
}
const put = await s3.send(new PutObjectCommand({
  Bucket: bucket, Key: "node/stream.bin", Body: createReadStream(file), ContentLength: statSync(file).size,
}));
const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "node/stream.bin" }));
writeFileSync(file + ".back", Buffer.from(await got.Body.transformToByteArray()));
console.log(put.ETag);
