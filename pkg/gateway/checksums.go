package gateway

import (
	"fmt"
	"hash/crc64"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/versity/versitygw/s3api/utils"
	"github.com/versity/versitygw/s3err"
	"github.com/versity/versitygw/s3response"

	"github.com/nbctl/nb/pkg/placement"
)

// S3's checksums of multipart uploads, as AWS has them: an upload created
// with an algorithm has each part's checksum in it (sent or computed),
// and the object's is composed from the parts' at completion: COMPOSITE,
// the algorithm over the parts' checksums with "-N" after it; FULL_OBJECT,
// the CRC of the whole object, combined from the parts' CRCs without a
// pass over the bytes. An upload created without one gets S3's default, a
// full-object CRC64NVME, composed the same way from a CRC64NVME nb
// computes with each part.

// byAlgorithm maps checksum fields by algorithm; set is the fields.
func byAlgorithm(f checksumFields) map[types.ChecksumAlgorithm]*string {
	return map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: f.CRC32, types.ChecksumAlgorithmCrc32c: f.CRC32C, types.ChecksumAlgorithmCrc64nvme: f.CRC64NVME,
		types.ChecksumAlgorithmSha1: f.SHA1, types.ChecksumAlgorithmSha256: f.SHA256, types.ChecksumAlgorithmSha512: f.SHA512,
		types.ChecksumAlgorithmMd5: f.MD5, types.ChecksumAlgorithmXxhash64: f.XXHASH64, types.ChecksumAlgorithmXxhash3: f.XXHASH3,
		types.ChecksumAlgorithmXxhash128: f.XXHASH128,
	}
}

// fieldsFor is one checksum as response fields.
func fieldsFor(alg, value, typ string) checksumFields {
	return fieldsOf(&placement.Attrs{ChecksumAlgorithm: alg, Checksum: value, ChecksumType: typ})
}

// completedFields are the checksum fields of a part in a
// CompleteMultipartUpload request.
func completedFields(p types.CompletedPart) checksumFields {
	return checksumFields{CRC32: p.ChecksumCRC32, CRC32C: p.ChecksumCRC32C, CRC64NVME: p.ChecksumCRC64NVME, SHA1: p.ChecksumSHA1,
		SHA256: p.ChecksumSHA256, SHA512: p.ChecksumSHA512, MD5: p.ChecksumMD5, XXHASH64: p.ChecksumXXHASH64,
		XXHASH3: p.ChecksumXXHASH3, XXHASH128: p.ChecksumXXHASH128}
}

func completeFields(in *s3.CompleteMultipartUploadInput) checksumFields {
	return checksumFields{CRC32: in.ChecksumCRC32, CRC32C: in.ChecksumCRC32C, CRC64NVME: in.ChecksumCRC64NVME, SHA1: in.ChecksumSHA1,
		SHA256: in.ChecksumSHA256, SHA512: in.ChecksumSHA512, MD5: in.ChecksumMD5, XXHASH64: in.ChecksumXXHASH64,
		XXHASH3: in.ChecksumXXHASH3, XXHASH128: in.ChecksumXXHASH128}
}

func (f checksumFields) part(p *s3response.Part) {
	p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256 = f.CRC32, f.CRC32C, f.CRC64NVME, f.SHA1, f.SHA256
	p.ChecksumSHA512, p.ChecksumMD5, p.ChecksumXXHASH64, p.ChecksumXXHASH3, p.ChecksumXXHASH128 = f.SHA512, f.MD5, f.XXHASH64, f.XXHASH3, f.XXHASH128
}

func (f checksumFields) uploadPart(p *s3.UploadPartOutput) {
	p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256 = f.CRC32, f.CRC32C, f.CRC64NVME, f.SHA1, f.SHA256
	p.ChecksumSHA512, p.ChecksumMD5, p.ChecksumXXHASH64, p.ChecksumXXHASH3, p.ChecksumXXHASH128 = f.SHA512, f.MD5, f.XXHASH64, f.XXHASH3, f.XXHASH128
}

func (f checksumFields) copyPart(p *s3response.CopyPartResult) {
	p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256 = f.CRC32, f.CRC32C, f.CRC64NVME, f.SHA1, f.SHA256
	p.ChecksumSHA512, p.ChecksumMD5, p.ChecksumXXHASH64, p.ChecksumXXHASH3, p.ChecksumXXHASH128 = f.SHA512, f.MD5, f.XXHASH64, f.XXHASH3, f.XXHASH128
}

func (f checksumFields) complete(p *s3response.CompleteMultipartUploadResult) {
	p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256 = f.CRC32, f.CRC32C, f.CRC64NVME, f.SHA1, f.SHA256
	p.ChecksumSHA512, p.ChecksumMD5, p.ChecksumXXHASH64, p.ChecksumXXHASH3, p.ChecksumXXHASH128 = f.SHA512, f.MD5, f.XXHASH64, f.XXHASH3, f.XXHASH128
	if f.Type != "" {
		p.ChecksumType = ptr(f.Type)
	}
}

// uploadChecksum is the algorithm and type an upload was created with
// ("" for none).
func uploadChecksum(u placement.Upload) (types.ChecksumAlgorithm, types.ChecksumType) {
	if u.Attrs == nil {
		return "", ""
	}
	return types.ChecksumAlgorithm(u.Attrs.ChecksumAlgorithm), types.ChecksumType(u.Attrs.ChecksumType)
}

// partUpload prepares a part's upload under its upload's checksum rules:
// a COMPOSITE upload needs the part's checksum, a part's checksum must be
// of the upload's algorithm, and a part sent without one has it computed.
// A part of an upload without an algorithm also gets a CRC64NVME, for the
// object's default checksum. A copied part (copied) has its checksum
// computed whatever the type.
func partUpload(u placement.Upload, body io.Reader, size *int64, alg types.ChecksumAlgorithm, values map[types.ChecksumAlgorithm]*string, copied bool) (*upload, error) {
	upAlg, upType := uploadChecksum(u)
	given := givenAlgorithm(body, alg, values)
	if given == "" && upType == types.ChecksumTypeComposite && !copied {
		return nil, s3err.GetChecksumTypeMismatchErr(upAlg, "null")
	}
	if given != "" && upAlg != "" && given != upAlg {
		return nil, s3err.GetChecksumTypeMismatchErr(upAlg, given)
	}
	if given == "" {
		alg = upAlg
	}
	up, err := newUpload(body, size, alg, values)
	if err != nil {
		return nil, err
	}
	if upAlg == "" && (up.sum == nil || up.sum.algorithm != types.ChecksumAlgorithmCrc64nvme) {
		up.crc64 = crc64.New(crc64NVME)
	}
	return up, nil
}

// finalChecksum composes an object's checksum from its parts' (in the
// order completed), after checking the parts' checksums the request
// lists against those stored, and the whole object's one the request
// may give. It returns the algorithm, value and type, and each part's
// checksum in the object's algorithm; all "" when a part lacks what is
// needed (parts stored before nb kept their checksums).
func finalChecksum(u placement.Upload, in *s3.CompleteMultipartUploadInput, parts []placement.UploadedPart) (alg, value, typ string, each []string, err error) {
	upAlg, upType := uploadChecksum(u)
	if in.ChecksumType != "" && in.ChecksumType != upType {
		t := upType
		if t == "" {
			t = "null"
		}
		return "", "", "", nil, s3err.GetChecksumTypeMismatchOnMpErr(t)
	}
	byNum := map[int]placement.UploadedPart{}
	for _, p := range parts {
		byNum[p.Number] = p
	}
	for _, cp := range in.MultipartUpload.Parts {
		p, ok := byNum[int(*cp.PartNumber)]
		if !ok {
			continue // the data path answers InvalidPart
		}
		if err := checkPartChecksum(upAlg, p, cp, clone(in.UploadId)); err != nil {
			return "", "", "", nil, err
		}
	}
	alg, typ = string(upAlg), string(upType)
	if upAlg == "" {
		alg, typ = string(types.ChecksumAlgorithmCrc64nvme), string(types.ChecksumTypeFullObject)
	}
	var composite *utils.CompositeChecksumReader
	if typ == string(types.ChecksumTypeComposite) {
		if composite, err = utils.NewCompositeChecksumReader(utils.HashType(strings.ToLower(alg))); err != nil {
			return "", "", "", nil, err
		}
	}
	for i, cp := range in.MultipartUpload.Parts {
		p := byNum[int(*cp.PartNumber)]
		sum := ""
		if p.Attrs != nil {
			if p.Attrs.ChecksumAlgorithm == alg {
				sum = p.Attrs.Checksum
			} else if upAlg == "" {
				sum = p.Attrs.PartCRC64NVME
			}
		}
		if sum == "" {
			return "", "", "", nil, nil
		}
		each = append(each, sum)
		switch {
		case composite != nil:
			if err := composite.Process(sum); err != nil {
				return "", "", "", nil, nil
			}
		case i == 0:
			value = sum
		default:
			if value, err = utils.AddCRCChecksum(types.ChecksumAlgorithm(alg), value, sum, p.Size); err != nil {
				return "", "", "", nil, nil
			}
		}
	}
	if composite != nil {
		value = fmt.Sprintf("%s-%d", composite.Sum(), len(in.MultipartUpload.Parts))
	}
	if upAlg != "" {
		if want := byAlgorithm(completeFields(in))[upAlg]; want != nil {
			w := *want
			if composite != nil && !strings.Contains(w, "-") {
				w = fmt.Sprintf("%s-%d", w, len(in.MultipartUpload.Parts))
			}
			if w != value {
				return "", "", "", nil, s3err.GetChecksumBadDigestErr(upAlg)
			}
		}
	}
	return alg, value, typ, each, nil
}

// checkPartChecksum checks the checksum a completion lists for a part
// against the part's: one at most, well formed, equal; required when the
// upload was created with an algorithm.
func checkPartChecksum(upAlg types.ChecksumAlgorithm, p placement.UploadedPart, cp types.CompletedPart, uploadID string) error {
	listed := byAlgorithm(completedFields(cp))
	n, any := 0, ""
	for _, v := range listed {
		if v != nil {
			n++
			any = *v
		}
	}
	if n > 1 {
		return s3err.GetInvalidArgumentErr(s3err.InvalidArgChecksumPart, any)
	}
	stored, storedAlg := "", types.ChecksumAlgorithm("")
	if p.Attrs != nil {
		stored, storedAlg = p.Attrs.Checksum, types.ChecksumAlgorithm(p.Attrs.ChecksumAlgorithm)
	}
	if n == 0 {
		if upAlg != "" {
			return s3err.APIError{Code: "InvalidRequest", HTTPStatusCode: 400,
				Description: fmt.Sprintf("The upload was created using a %s checksum. The complete request must include the checksum for each part. It was missing for part %d in the request.", strings.ToLower(string(upAlg)), *cp.PartNumber)}
		}
		return nil
	}
	for a, v := range listed {
		if v == nil {
			continue
		}
		if !utils.IsValidChecksum(*v, a) {
			return s3err.GetInvalidArgumentErr(s3err.InvalidArgChecksumPart, *v)
		}
		if a != storedAlg {
			if storedAlg == "" {
				return s3err.GetInvalidPartErr(uploadID, *cp.PartNumber, str(cp.ETag))
			}
			return s3err.APIError{Code: "BadDigest", HTTPStatusCode: 400,
				Description: fmt.Sprintf("The %s you specified for part %d did not match what we received.", strings.ToLower(string(a)), *cp.PartNumber)}
		}
		if *v != stored {
			return s3err.GetInvalidPartErr(uploadID, *cp.PartNumber, str(cp.ETag))
		}
	}
	return nil
}
