// A reference for `btfkit core`: libbpf's own CO-RE resolver (upstream
// f7081a6: bpf_core_add_cands, bpf_core_calc_relo_insn, bpf_core_patch_insn)
// driven the way bpftool's `gen min_core_btf` drives it, with libbpf's module
// search added, printing the golden TSV of ../shared/golden/core/README.md.
// Used to produce the expected results of the hand-built test objects
// (test/fixtures/core/); not part of the package.
//
// Build (libbpf f7081a6 source in $L, libelf-dev and zlib installed):
//   make -C $L/src BUILD_STATIC_ONLY=1 OBJDIR=$L/build
//   gcc -O1 -I$L/src -I$L/include -I$L/include/uapi scripts/core-oracle.c $L/build/libbpf.a -lelf -lz -o core-oracle
// Run: core-oracle VMLINUX.btf [-M MODULE.btf]... OBJ.bpf.o...   (raw BTF or ELF; not compressed)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <libelf.h>
#include <gelf.h>
#include <linux/bpf.h>
#include "libbpf.h"
#include "btf.h"
#include "libbpf_internal.h"
#include "relo_core.h"

static char first_warn[1024];
static int have_warn;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && !have_warn) {
		vsnprintf(first_warn, sizeof(first_warn), fmt, ap);
		have_warn = 1;
	}
	return 0;
}

static const char *reason_of(const char *m)
{
	static const struct { const char *needle, *reason; } t[] = {
		{ "field offset ambiguity", "field_offset_ambiguity" },
		{ "relocation decision ambiguity", "decision_ambiguity" },
		{ "error matching candidate", "cand_match_error" },
		{ "can't be satisfied for bitfield", "bitfield_too_big" },
		{ "of unexpected kind", "unexpected_kind" },
		{ "parsing [", "bad_local_spec" },
		{ "doesn't support anonymous types", "anon_type" },
		{ "can't be applied to array access", "array_access_kind" },
		{ "unrecognized CO-RE relocation", "unknown_kind" },
		{ "(ALU/ALU64) value", "insn_value_mismatch" },
		{ "(LDX/ST/STX) value:", "insn_value_mismatch" },
		{ "(LDIMM64) value", "insn_value_mismatch" },
		{ "value too big", "insn_off_too_big" },
		{ "unexpected mem size", "insn_mem_size_mismatch" },
		{ "invalid new mem size", "insn_bad_new_mem_size" },
		{ "has unexpected form", "insn_bad_ldimm64" },
		{ "unrecognized insn", "insn_unrecognized" },
	};
	if (!have_warn)
		return "other";
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strstr(m, t[i].needle))
			return t[i].reason;
	return "other";
}

static const char *kinds[] = { "byte_off", "byte_sz", "field_exists", "signed", "lshift_u64", "rshift_u64",
	"local_type_id", "target_type_id", "type_exists", "type_size", "enumval_exists", "enumval_value", "type_matches" };

static struct btf *vmlinux;
static struct btf *mods[1024];
static const char *mod_names[1024];
static int nmods;

struct cache_ent { __u32 id; struct bpf_core_cand_list *c; };

static struct bpf_core_cand_list *find_cands(const struct btf *local, __u32 id)
{
	struct bpf_core_cand lc = { .btf = local, .id = id };
	const struct btf_type *t = btf__type_by_id(local, id);
	if (!t)
		return NULL;
	const char *name = btf__name_by_offset(local, t->name_off);
	if (!name)
		return NULL;
	size_t len = bpf_core_essential_name_len(name);
	struct bpf_core_cand_list *c = calloc(1, sizeof(*c));
	if (bpf_core_add_cands(&lc, len, vmlinux, "vmlinux", 1, c))
		return NULL;
	if (c->len)
		return c;
	for (int i = 0; i < nmods; i++)
		if (bpf_core_add_cands(&lc, len, mods[i], mod_names[i], btf__type_cnt(vmlinux), c))
			return NULL;
	return c;
}

static const char *btf_name_of(const struct btf *b)
{
	if (b == vmlinux)
		return "vmlinux";
	for (int i = 0; i < nmods; i++)
		if (mods[i] == b)
			return mod_names[i];
	return "?";
}

static void hex(const void *p, int n)
{
	for (int i = 0; i < n; i++)
		printf("%02x", ((const unsigned char *)p)[i]);
}

static int do_obj(const char *path)
{
	struct btf_ext *ext = NULL;
	struct btf *btf = btf__parse(path, &ext);
	if (!btf || !ext) {
		fprintf(stderr, "%s: cannot parse BTF/BTF.ext\n", path);
		return 1;
	}
	int fd = open(path, O_RDONLY);
	Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
	size_t shstrndx;
	elf_getshdrstrndx(elf, &shstrndx);
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	printf("#obj\tsec\trelo\tinsn_off\tkind\tlocal_id\tlocal_kind\tlocal_name\taccess\tstatus\torig_val\tnew_val\ttarg_btf\ttarg_id\ttarg_spec\ttarg_bit_off\tvalidate\tmemsz_fail\tcands\tmatched\tpatch\tinsn\terrno\treason\n");
	struct cache_ent cache[4096];
	int ncache = 0;
	const struct btf_ext_info *seg = &ext->core_relo_info;
	const struct btf_ext_info_sec *sec;
	for_each_btf_ext_sec(seg, sec) {
		const char *sec_name = btf__name_by_offset(btf, sec->sec_name_off);
		Elf_Scn *scn = NULL;
		Elf_Data *data = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;
			gelf_getshdr(scn, &sh);
			if (!strcmp(elf_strptr(elf, shstrndx, sh.sh_name), sec_name)) {
				data = elf_getdata(scn, NULL);
				break;
			}
		}
		const struct bpf_core_relo *rec;
		int i;
		for_each_btf_ext_rec(seg, sec, i, rec) {
			struct bpf_core_cand_list *cands = NULL, saved = {};
			const struct btf_type *lt = btf__type_by_id(btf, rec->type_id);
			const char *ln = lt ? btf__name_by_offset(btf, lt->name_off) : NULL;
			printf("%s\t%s\t%d\t%u\t%s\t%u\t%s\t%s\t%s\t", base, sec_name, i, rec->insn_off,
			       rec->kind < 13 ? kinds[rec->kind] : "unknown", rec->type_id,
			       lt ? btf_kind_str(lt) : "-", lt ? (ln && *ln ? ln : "<anon>") : "-",
			       btf__name_by_offset(btf, rec->access_str_off));
			if (rec->kind != BPF_CORE_TYPE_ID_LOCAL) {
				for (int k = 0; k < ncache; k++)
					if (cache[k].id == rec->type_id)
						cands = cache[k].c;
				if (!cands) {
					cands = find_cands(btf, rec->type_id);
					if (!cands) {
						printf("error\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t22\tcand_search_failed\n");
						continue;
					}
					cache[ncache].id = rec->type_id;
					cache[ncache++].c = cands;
				}
				saved.len = cands->len;
				saved.cands = malloc(sizeof(*cands->cands) * (cands->len + 1));
				memcpy(saved.cands, cands->cands, sizeof(*cands->cands) * cands->len);
			}
			if (!lt) {
				/* libbpf would dereference NULL here; btfkit reports the record */
				printf("error\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t22\tbad_local_spec\n");
				continue;
			}
			struct bpf_core_spec specs[3] = {};
			struct bpf_core_relo_res res = {};
			specs[2].root_type_id = 0xdeadbeef;
			int ncands = cands ? cands->len : -1;
			have_warn = 0;
			int err = bpf_core_calc_relo_insn(sec_name, rec, i, btf, cands, specs, &res);
			char cstr[16];
			snprintf(cstr, sizeof(cstr), "%d", ncands);
			if (err) {
				if (cands) {
					memcpy(cands->cands, saved.cands, sizeof(*cands->cands) * saved.len);
					cands->len = saved.len;
				}
				printf("error\t-\t-\t-\t-\t-\t-\t-\t-\t%s\t-\t-\t-\t%d\t%s\n", ncands < 0 ? "-" : cstr, -err, reason_of(first_warn));
				free(saved.cands);
				continue;
			}
			free(saved.cands);
			int matched = specs[2].root_type_id != 0xdeadbeef;
			int nmatched = matched ? cands->len : 0;
			struct bpf_insn insn[2] = {};
			int insn_cnt = 1;
			if (data && rec->insn_off + 8 <= data->d_size) {
				memcpy(insn, (char *)data->d_buf + rec->insn_off, rec->insn_off + 16 <= data->d_size ? 16 : 8);
			}
			if (insn[0].code == (BPF_LD | BPF_IMM | BPF_DW))
				insn_cnt = 2;
			have_warn = 0;
			int perr = bpf_core_patch_insn(sec_name, insn, rec->insn_off / 8, rec, i, &res);
			const char *patch = perr ? "error" : (insn[0].code == (BPF_JMP | BPF_CALL) && insn[0].imm == 195896080 ? "poison" : "ok");
			printf("%s\t%llu\t%llu\t", res.poison ? "poison" : "ok", (unsigned long long)res.orig_val, (unsigned long long)res.new_val);
			int field = rec->kind <= BPF_CORE_FIELD_RSHIFT_U64;
			int en = rec->kind == BPF_CORE_ENUMVAL_EXISTS || rec->kind == BPF_CORE_ENUMVAL_VALUE;
			if (matched && rec->kind != BPF_CORE_TYPE_ID_LOCAL) {
				printf("%s\t%u\t", btf_name_of(specs[2].btf), specs[2].root_type_id);
				if (field || en) {
					for (int k = 0; k < specs[2].raw_len; k++)
						printf("%s%d", k ? ":" : "", specs[2].raw_spec[k]);
				} else
					printf("-");
				printf("\t");
				if (field)
					printf("%u\t", specs[2].bit_offset);
				else
					printf("-\t");
			} else
				printf("-\t-\t-\t-\t");
			printf("%d\t%d\t", res.validate, res.fail_memsz_adjust);
			if (rec->kind == BPF_CORE_TYPE_ID_LOCAL)
				printf("-\t-\t");
			else
				printf("%d\t%d\t", ncands, nmatched);
			printf("%s\t", patch);
			if (perr)
				printf("-\t%d\t%s\n", -perr, reason_of(first_warn));
			else {
				hex(insn, insn_cnt * 8);
				printf("\t-\t-\n");
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	libbpf_set_print(print_fn);
	elf_version(EV_CURRENT);
	if (argc < 3)
		return 2;
	vmlinux = btf__parse(argv[1], NULL);
	if (!vmlinux) {
		fprintf(stderr, "cannot parse %s\n", argv[1]);
		return 2;
	}
	int i = 2;
	while (i < argc && !strcmp(argv[i], "-M")) {
		mods[nmods] = btf__parse_split(argv[i + 1], vmlinux);
		if (!mods[nmods]) {
			fprintf(stderr, "cannot parse %s\n", argv[i + 1]);
			return 2;
		}
		const char *b = strrchr(argv[i + 1], '/') ? strrchr(argv[i + 1], '/') + 1 : argv[i + 1];
		char *n = strdup(b);
		char *dot = strstr(n, ".btf");
		if (dot)
			*dot = 0;
		mod_names[nmods++] = n;
		i += 2;
	}
	int rc = 0;
	for (; i < argc; i++)
		rc |= do_obj(argv[i]);
	return rc;
}
