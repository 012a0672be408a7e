// xray-load: placeholder until the load generator lands in the next commit.
#include <cstdio>
int main() {
  std::fputs("xray-load: not implemented yet\n", stderr);
  return 2;
}
